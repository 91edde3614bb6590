<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests;

use Licenseflow\Client\Cache\FileCache;
use Licenseflow\Client\Exception\LicenseflowException;

final class FileCacheTest extends ServerTestCase
{
    public function testEntriesAreWrittenWholeAndPrivately(): void
    {
        $dir = $this->cacheDir() . '/nested';
        $cache = new FileCache($dir);

        self::assertNull($cache->get('answers-x'));
        $cache->set('answers-x', 'first');
        $cache->set('answers-x', 'second');
        self::assertSame('second', $cache->get('answers-x'));
        $files = array_values(array_diff(scandir($dir) ?: [], ['.', '..']));
        self::assertSame(['answers-x.cache'], $files, 'no temporary file is left');
        self::assertSame(0600, fileperms($dir . '/answers-x.cache') & 0777);
        self::assertSame(0700, fileperms($dir) & 0777);
        $cache->delete('answers-x');
        self::assertNull($cache->get('answers-x'));
    }

    public function testKeysCannotLeaveTheDirectory(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        (new FileCache($this->cacheDir()))->set('../escape', 'x');
    }

    public function testAnUnusableDirectorySaysWhatToDo(): void
    {
        $file = $this->cacheDir();
        file_put_contents($file, 'a file, not a directory');

        $this->expectException(LicenseflowException::class);
        $this->expectExceptionMessage('create it writable');
        new FileCache($file . '/cache');
    }
}
