<?php

declare(strict_types=1);

namespace Licenseflow\Client\Http;

use Licenseflow\Client\Exception\UnreachableException;

/**
 * Sends HTTP requests. Implement it to route the client through a site's
 * own HTTP stack (Joomla's Http, a proxy); any status is a Response.
 */
interface Transport
{
    /**
     * @throws UnreachableException when no HTTP answer arrives (DNS, connection, TLS, timeout)
     */
    public function send(Request $request): Response;
}
