<?php

declare(strict_types=1);

namespace Licenseflow\Client\Http;

use Licenseflow\Client\Exception\UnreachableException;

/**
 * Transport over ext-curl.
 */
final class CurlTransport implements Transport
{
    public function __construct(
        private readonly float $timeout = 10.0,
        private readonly float $connectTimeout = 5.0,
    ) {
    }

    public function send(Request $request): Response
    {
        $headerLines = [];
        $handle = curl_init($request->url);
        $headers = [];
        foreach ($request->headers as $name => $value) {
            $headers[] = $name . ': ' . $value;
        }
        $headers[] = 'Expect:'; // no 100-continue round trip for our small bodies
        curl_setopt_array($handle, [
            CURLOPT_CUSTOMREQUEST => $request->method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_TIMEOUT_MS => (int) ($this->timeout * 1000),
            CURLOPT_CONNECTTIMEOUT_MS => (int) ($this->connectTimeout * 1000),
            // A redirect could only come from something between the site and
            // licenseflow; answers must come from the server asked.
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_HEADERFUNCTION => static function ($handle, string $line) use (&$headerLines): int {
                $headerLines[] = $line;
                return strlen($line);
            },
        ]);
        if ($request->body !== null) {
            curl_setopt($handle, CURLOPT_POSTFIELDS, $request->body);
        }
        $body = curl_exec($handle);
        if ($body === false) {
            $error = curl_error($handle);
            curl_close($handle);
            throw new UnreachableException(sprintf('licenseflow unreachable at %s: %s', $request->url, $error));
        }
        $status = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
        curl_close($handle);
        [, $parsed] = Response::parseHeaderLines($headerLines);
        return new Response($status, $parsed, (string) $body);
    }
}
