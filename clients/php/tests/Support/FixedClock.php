<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests\Support;

use Licenseflow\Client\Clock\Clock;

/**
 * A clock that says what the test tells it, to travel past freshness,
 * grace and expiry without waiting.
 */
final class FixedClock implements Clock
{
    public function __construct(private \DateTimeImmutable $now)
    {
    }

    public static function in(string $modifier): self
    {
        return new self((new \DateTimeImmutable('now', new \DateTimeZone('UTC')))->modify($modifier));
    }

    public function now(): \DateTimeImmutable
    {
        return $this->now;
    }
}
