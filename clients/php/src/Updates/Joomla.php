<?php

declare(strict_types=1);

namespace Licenseflow\Client\Updates;

/**
 * Joomla's Download Key. An extension whose manifest declares
 * <dlid prefix="dlid=" suffix=""/> gets a "Download Key" field on its
 * update site; Joomla stores what the customer enters there as the update
 * site's extra_query ("dlid=<key>", column extra_query of #__update_sites)
 * and appends it to the feed and to every package download URL. Licenseflow
 * reads the key from that dlid parameter, and the site from domain: with
 * it, a key serves only the sites activated on its license (a product
 * marked domain_required serves no request without it).
 */
final class Joomla
{
    /**
     * The extra_query value that carries a key and, when given, the site's
     * domain: "dlid=<key>&domain=<domain>". Pass the site's own host, e.g.
     * Uri::getInstance()->getHost(), and activate it on the license.
     */
    public static function extraQuery(string $dlid, ?string $domain = null): string
    {
        return 'dlid=' . rawurlencode(strtolower(trim($dlid))) . SiteQuery::domain($domain);
    }

    /** The key in an update site's extra_query, or null when it carries none. */
    public static function dlidFromExtraQuery(?string $extraQuery): ?string
    {
        parse_str(ltrim((string) $extraQuery, '?&'), $params);
        $dlid = $params['dlid'] ?? null;
        return is_string($dlid) && trim($dlid) !== '' ? strtolower(trim($dlid)) : null;
    }

    /** A URL with the extra query appended, as Joomla does before a download. */
    public static function appendExtraQuery(string $url, string $extraQuery): string
    {
        $extraQuery = ltrim($extraQuery, '?&');
        if ($extraQuery === '') {
            return $url;
        }
        return $url . (str_contains($url, '?') ? '&' : '?') . $extraQuery;
    }

    /** The update server URL to put in the extension's manifest (<updateservers>). */
    public static function updateServerUrl(string $serverUrl, string $product): string
    {
        return rtrim($serverUrl, '/') . '/updates/' . rawurlencode($product) . '.xml';
    }
}
