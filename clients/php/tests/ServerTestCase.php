<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests;

use Licenseflow\Client\Cache\Cache;
use Licenseflow\Client\Cache\FileCache;
use Licenseflow\Client\Client;
use Licenseflow\Client\Clock\Clock;
use Licenseflow\Client\Http\CurlTransport;
use Licenseflow\Client\Http\Request;
use Licenseflow\Client\Http\Response;
use Licenseflow\Client\Http\Transport;
use PHPUnit\Framework\TestCase;

/**
 * Tests against the licenseflow server that integration/phpclient_test.go
 * started, with the licenses it issued (environment variables).
 */
abstract class ServerTestCase extends TestCase
{
    public const VALIDATE = '/api/v1/licenses/validate';
    public const KEYS = '/api/v1/keys/public';
    public const UNKNOWN_KEY = 'ffffffffffffffffffffffffffffffff';

    protected static function env(string $name): string
    {
        $value = getenv($name);
        if ($value === false || $value === '') {
            throw new \RuntimeException("$name is not set; run go test ./integration -run TestPHPClient");
        }
        return $value;
    }

    protected function serverUrl(): string
    {
        return self::env('LICENSEFLOW_URL');
    }

    /** The key of a pos license with 2 domain slots, issued for these tests. */
    protected function dlid(): string
    {
        return self::env('LICENSEFLOW_DLID');
    }

    /** A fresh cache directory for this test. */
    protected function cacheDir(): string
    {
        return self::env('LICENSEFLOW_CACHE_DIR') . '/' . bin2hex(random_bytes(6));
    }

    /**
     * A client of the test server; url points it elsewhere (an unreachable
     * address) with the same cache.
     */
    protected function client(
        Cache|string|null $cache = null,
        ?Transport $transport = null,
        ?Clock $clock = null,
        ?string $url = null,
        int $graceFor = Client::GRACE_FOR,
    ): Client {
        return new Client(
            $url ?? $this->serverUrl(),
            $cache ?? $this->cacheDir(),
            transport: $transport,
            clock: $clock,
            graceFor: $graceFor,
            timeout: 5.0,
        );
    }

    /** A loopback port nothing listens on: connections are refused. */
    protected function unreachableUrl(): string
    {
        return self::env('LICENSEFLOW_UNREACHABLE_URL');
    }

    /** A reverse proxy whose upstream is down: it answers 502 Bad Gateway. */
    protected function gatewayDownUrl(): string
    {
        return self::env('LICENSEFLOW_GATEWAY_DOWN_URL');
    }

    protected function newCache(): FileCache
    {
        return new FileCache($this->cacheDir());
    }

    /** An admin API call, as the vendor's CRM makes it. */
    protected function admin(string $method, string $path, ?string $body = null): Response
    {
        return (new CurlTransport())->send(new Request($method, $this->serverUrl() . $path, [
            'Authorization' => 'Bearer ' . self::env('LICENSEFLOW_ADMIN_TOKEN'),
            'Content-Type' => 'application/json',
        ], $body));
    }
}
