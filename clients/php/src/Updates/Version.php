<?php

declare(strict_types=1);

namespace Licenseflow\Client\Updates;

/**
 * Compares release versions by semantic-versioning precedence, which
 * licenseflow's releases follow. PHP's version_compare() alone gets two
 * cases wrong for that: "2.0.0" is newer than "2.0" to it, and it orders
 * pre-release words by its own list rather than semver's rules.
 */
final class Version
{
    /** -1, 0 or 1 as $a is older than, the same as, or newer than $b. */
    public static function compare(string $a, string $b): int
    {
        [$coreA, $preA] = self::split($a);
        [$coreB, $preB] = self::split($b);
        if ($coreA === null || $coreB === null) {
            return version_compare($a, $b) <=> 0; // not dotted numbers: PHP's best effort
        }
        for ($i = 0, $n = max(count($coreA), count($coreB)); $i < $n; $i++) {
            $order = ($coreA[$i] ?? 0) <=> ($coreB[$i] ?? 0);
            if ($order !== 0) {
                return $order;
            }
        }
        return match (true) {
            $preA === $preB => 0,
            $preA === [] => 1, // a release is newer than its pre-releases
            $preB === [] => - 1,
            default => self::comparePreRelease($preA, $preB),
        };
    }

    public static function isNewer(string $candidate, string $installed): bool
    {
        return self::compare($candidate, $installed) > 0;
    }

    /**
     * @return array{?list<int>, list<string>} numeric core (null if not numeric), pre-release identifiers
     */
    private static function split(string $version): array
    {
        $version = preg_replace('/^v(?=\d)/i', '', trim($version)) ?? '';
        $version = explode('+', $version, 2)[0]; // build metadata does not order
        [$core, $pre] = array_pad(explode('-', $version, 2), 2, '');
        if (preg_match('/^\d+(\.\d+)*$/', $core) !== 1) {
            return [null, []];
        }
        return [array_map('intval', explode('.', $core)), $pre === '' ? [] : explode('.', $pre)];
    }

    /**
     * @param list<string> $a
     * @param list<string> $b
     */
    private static function comparePreRelease(array $a, array $b): int
    {
        for ($i = 0, $n = min(count($a), count($b)); $i < $n; $i++) {
            $numericA = ctype_digit($a[$i]);
            $numericB = ctype_digit($b[$i]);
            $order = match (true) {
                $numericA && $numericB => (int) $a[$i] <=> (int) $b[$i],
                $numericA => - 1, // numeric identifiers sort before words
                $numericB => 1,
                default => strcmp($a[$i], $b[$i]) <=> 0,
            };
            if ($order !== 0) {
                return $order;
            }
        }
        return count($a) <=> count($b);
    }
}
