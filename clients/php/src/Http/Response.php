<?php

declare(strict_types=1);

namespace Licenseflow\Client\Http;

/**
 * One HTTP answer. The body is kept as the exact bytes received, because
 * licenseflow's signature covers those bytes.
 */
final class Response
{
    /** @var array<string, string> lower-case name => value */
    public readonly array $headers;

    /**
     * @param array<string, string> $headers
     */
    public function __construct(
        public readonly int $status,
        array $headers,
        public readonly string $body,
    ) {
        $this->headers = array_change_key_case($headers, CASE_LOWER);
    }

    public function header(string $name): ?string
    {
        return $this->headers[strtolower($name)] ?? null;
    }

    /**
     * Parses raw header lines ("Name: value"); a status line resets the
     * set, so only the final answer's headers remain after a 100 Continue.
     *
     * @param iterable<string> $lines
     * @return array{int, array<string, string>}
     */
    public static function parseHeaderLines(iterable $lines): array
    {
        $status = 0;
        $headers = [];
        foreach ($lines as $line) {
            $line = rtrim($line, "\r\n");
            if (preg_match('#^HTTP/\S+\s+(\d{3})#', $line, $m) === 1) {
                $status = (int) $m[1];
                $headers = [];
                continue;
            }
            $colon = strpos($line, ':');
            if ($colon !== false) {
                $headers[strtolower(trim(substr($line, 0, $colon)))] = trim(substr($line, $colon + 1));
            }
        }
        return [$status, $headers];
    }
}
