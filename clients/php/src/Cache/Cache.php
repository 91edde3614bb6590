<?php

declare(strict_types=1);

namespace Licenseflow\Client\Cache;

/**
 * Where the client keeps signed answers and the published public keys.
 * Implement it to use a site's own cache (Joomla's, Dolibarr's, Redis);
 * entries are only hints: every one is re-verified when read, and none may
 * expire on its own before the offline grace window (7 days by default).
 * Keys are made of [a-z0-9._-].
 */
interface Cache
{
    public function get(string $key): ?string;

    public function set(string $key, string $value): void;

    public function delete(string $key): void;
}
