<?php

declare(strict_types=1);

namespace Licenseflow\Client\Clock;

/**
 * What time it is, for freshness, offline grace and token expiry. Same
 * shape as PSR-20's ClockInterface, so an adapter is one line.
 */
interface Clock
{
    public function now(): \DateTimeImmutable;
}
