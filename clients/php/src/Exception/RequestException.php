<?php

declare(strict_types=1);

namespace Licenseflow\Client\Exception;

use Licenseflow\Client\Http\Response;

/**
 * Licenseflow refused the request itself (a 4xx such as a malformed domain,
 * or no token for an unusable key). The message is licenseflow's and says
 * what to fix; errorCode and field are its machine-readable parts.
 */
final class RequestException extends LicenseflowException
{
    public function __construct(
        string $message,
        public readonly int $status,
        public readonly string $errorCode,
        public readonly string $field = '',
    ) {
        parent::__construct($message, $status);
    }

    public static function fromResponse(Response $response): self
    {
        $error = json_decode($response->body, true)['error'] ?? null;
        if (!is_array($error)) {
            return new self(
                sprintf('licenseflow answered HTTP %d: %s', $response->status, substr($response->body, 0, 200)),
                $response->status,
                'http_' . $response->status,
            );
        }
        return new self(
            (string) ($error['message'] ?? 'licenseflow refused the request'),
            $response->status,
            (string) ($error['code'] ?? 'http_' . $response->status),
            (string) ($error['field'] ?? ''),
        );
    }
}
