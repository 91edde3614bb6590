<?php

declare(strict_types=1);

namespace Licenseflow\Client\Cache;

use Licenseflow\Client\Exception\LicenseflowException;

/**
 * One file per entry in a directory the site chooses (best outside the web
 * root, e.g. Joomla's administrator/cache or Dolibarr's documents dir).
 * Writes go to a temporary file that is renamed over the entry, so a
 * concurrent page load reads the old or the new answer, never half of one.
 */
final class FileCache implements Cache
{
    public function __construct(private readonly string $directory)
    {
        if (!is_dir($directory) && !@mkdir($directory, 0700, true) && !is_dir($directory)) {
            throw new LicenseflowException(sprintf(
                'cannot create the license cache directory %s; create it writable for the web server user',
                $directory,
            ));
        }
    }

    public function get(string $key): ?string
    {
        $value = @file_get_contents($this->path($key));
        return $value === false ? null : $value;
    }

    public function set(string $key, string $value): void
    {
        $path = $this->path($key);
        $temporary = @tempnam($this->directory, '.tmp-');
        $written = $temporary !== false && @file_put_contents($temporary, $value) === strlen($value);
        if (!$written || !@rename($temporary, $path)) {
            if ($temporary !== false) {
                @unlink($temporary);
            }
            throw new LicenseflowException(sprintf(
                'cannot write the license cache in %s; make it writable for the web server user',
                $this->directory,
            ));
        }
    }

    public function delete(string $key): void
    {
        @unlink($this->path($key));
    }

    private function path(string $key): string
    {
        if (preg_match('/^[a-z0-9._-]+$/', $key) !== 1 || str_starts_with($key, '.')) {
            throw new \InvalidArgumentException(
                sprintf('cache key %s must be made of [a-z0-9._-] and not start with a dot', $key)
            );
        }
        return $this->directory . DIRECTORY_SEPARATOR . $key . '.cache';
    }
}
