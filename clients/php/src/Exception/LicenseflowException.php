<?php

declare(strict_types=1);

namespace Licenseflow\Client\Exception;

/**
 * Everything the client throws extends this, so a site can catch one type.
 */
class LicenseflowException extends \RuntimeException
{
}
