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
    /**
     * The value for a module descriptor's $url_last_version; with the
     * site's domain (activated on the license) when the product is served
     * to activated domains only.
     */
    public static function lastVersionUrl(string $serverUrl, string $product, string $dlid, ?string $domain = null): string
    {
        return sprintf(
            '%s/updates/%s/latest?dlid=%s%s',
            rtrim($serverUrl, '/'),
            rawurlencode($product),
            rawurlencode(strtolower(trim($dlid))),
            SiteQuery::domain($domain),
        );
    }
}
