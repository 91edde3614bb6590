<?php

declare(strict_types=1);

namespace Licenseflow\Client;

/**
 * Reads licenseflow's RFC 3339 times (Go writes up to nanoseconds; PHP
 * keeps microseconds).
 *
 * @internal
 */
final class Time
{
    public static function parse(mixed $value): ?\DateTimeImmutable
    {
        if (!is_string($value) || $value === '') {
            return null;
        }
        try {
            return new \DateTimeImmutable($value);
        } catch (\Exception) {
            return null;
        }
    }

    /**
     * Whether a license with these dates may be used at $at: a lifetime
     * license always, others until the end of their grace period (the rule
     * of licenseflow's licensetoken.Claims.UsableAt).
     */
    public static function usable(
        ?\DateTimeImmutable $expiresAt,
        ?\DateTimeImmutable $graceUntil,
        \DateTimeInterface $at,
    ): bool {
        if ($expiresAt === null) {
            return true;
        }
        return $at < ($graceUntil ?? $expiresAt);
    }
}
