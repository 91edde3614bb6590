<?php

declare(strict_types=1);

namespace Licenseflow\Client\Updates;

/**
 * The query parameter that names the site asking for updates: feeds,
 * version checks and downloads for a domain not activated on the license
 * get nothing, and a product marked domain_required serves no request
 * without it.
 *
 * @internal
 */
final class SiteQuery
{
    /** "&domain=<domain>", or "" for no domain. */
    public static function domain(?string $domain): string
    {
        $domain = strtolower(trim((string) $domain));
        return $domain === '' ? '' : '&domain=' . rawurlencode($domain);
    }
}
