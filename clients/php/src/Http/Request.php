<?php

declare(strict_types=1);

namespace Licenseflow\Client\Http;

/**
 * One HTTP request to licenseflow.
 */
final class Request
{
    /**
     * @param array<string, string> $headers
     */
    public function __construct(
        public readonly string $method,
        public readonly string $url,
        public readonly array $headers = [],
        public readonly ?string $body = null,
    ) {
    }
}
