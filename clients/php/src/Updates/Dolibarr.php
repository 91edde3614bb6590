<?php

declare(strict_types=1);

namespace Licenseflow\Client\Updates;

/**
 * Dolibarr's update check. A module descriptor's $url_last_version is
 * fetched by Dolibarr's module list and must answer the newest version as
 * plain text; licenseflow's /updates/{product}/latest?dlid= does (empty
 * when the key may install nothing). Client::latestVersion() and
 * Client::updateAvailable() ask it from PHP.
 */
final class Dolibarr
{
    /** The value for a module descriptor's $url_last_version. */
    public static function lastVersionUrl(string $serverUrl, string $product, string $dlid): string
    {
        return sprintf(
            '%s/updates/%s/latest?dlid=%s',
            rtrim($serverUrl, '/'),
            rawurlencode($product),
            rawurlencode(strtolower(trim($dlid))),
        );
    }
}
