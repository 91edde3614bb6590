<?php

declare(strict_types=1);

namespace Licenseflow\Client\Http;

use Licenseflow\Client\Exception\UnreachableException;

/**
 * Transport over PHP's HTTP stream wrapper, for hosts without ext-curl
 * (allow_url_fopen must be on).
 */
final class StreamTransport implements Transport
{
    public function __construct(private readonly float $timeout = 10.0)
    {
    }

    public function send(Request $request): Response
    {
        $headers = ['Connection: close'];
        foreach ($request->headers as $name => $value) {
            $headers[] = $name . ': ' . $value;
        }
        $context = stream_context_create(['http' => [
            'method' => $request->method,
            'header' => implode("\r\n", $headers),
            'content' => $request->body ?? '',
            'timeout' => $this->timeout,
            'ignore_errors' => true, // a 4xx or 5xx is an answer, not a failure
            'follow_location' => 0,  // see CurlTransport
            'protocol_version' => 1.0,
        ]]);
        $error = null;
        set_error_handler(static function (int $type, string $message) use (&$error): bool {
            $error = $message;
            return true;
        });
        try {
            $stream = fopen($request->url, 'rb', false, $context);
            $body = $stream === false ? false : stream_get_contents($stream);
            $meta = $stream === false ? [] : stream_get_meta_data($stream);
        } finally {
            restore_error_handler();
        }
        if ($stream === false || $body === false) {
            $reason = $error ?? 'no answer';
            throw new UnreachableException(sprintf('licenseflow unreachable at %s: %s', $request->url, $reason));
        }
        fclose($stream);
        [$status, $parsed] = Response::parseHeaderLines($meta['wrapper_data'] ?? []);
        if ($status === 0) {
            throw new UnreachableException(
                sprintf('licenseflow unreachable at %s: no HTTP status line', $request->url)
            );
        }
        return new Response($status, $parsed, $body);
    }
}
