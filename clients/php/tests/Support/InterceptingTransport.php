<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests\Support;

use Licenseflow\Client\Http\Request;
use Licenseflow\Client\Http\Response;
use Licenseflow\Client\Http\Transport;

/**
 * Sits between the client and the real server: records what is sent (to
 * prove a cached answer made no request) and can alter real answers on
 * their way back, as a man in the middle would.
 */
final class InterceptingTransport implements Transport
{
    /** @var list<array{Request, Response}> */
    public array $exchanges = [];

    /**
     * @param ?\Closure(Request, Response): Response $alter
     */
    public function __construct(
        private readonly Transport $inner,
        private readonly ?\Closure $alter = null,
    ) {
    }

    public function send(Request $request): Response
    {
        $response = $this->inner->send($request);
        if ($this->alter !== null) {
            $response = ($this->alter)($request, $response);
        }
        $this->exchanges[] = [$request, $response];
        return $response;
    }

    /** How many requests went to a path (without the query). */
    public function count(string $path): int
    {
        return count($this->to($path));
    }

    /**
     * The latest exchange with a path.
     *
     * @return array{Request, Response}
     */
    public function last(string $path): array
    {
        $exchanges = $this->to($path);
        if ($exchanges === []) {
            throw new \LogicException("no request to $path");
        }
        return $exchanges[array_key_last($exchanges)];
    }

    /** @return array<int, array{Request, Response}> */
    private function to(string $path): array
    {
        return array_filter(
            $this->exchanges,
            static fn (array $exchange): bool => parse_url($exchange[0]->url, PHP_URL_PATH) === $path,
        );
    }
}
