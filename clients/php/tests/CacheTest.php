<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests;

use Licenseflow\Client\AnswerCache;
use Licenseflow\Client\Result;
use Licenseflow\Client\Http\CurlTransport;
use Licenseflow\Client\Tests\Support\FixedClock;
use Licenseflow\Client\Tests\Support\InterceptingTransport;

/**
 * Freshness (24 h), offline grace (7 days) and the cache's integrity. An
 * unreachable licenseflow is a refused connection or a gateway whose
 * upstream is down; time is moved with an injected clock.
 */
final class CacheTest extends ServerTestCase
{
    public function testAFreshAnswerIsServedWithoutARequest(): void
    {
        $transport = new InterceptingTransport(new CurlTransport());
        $cache = $this->newCache();
        $client = $this->client($cache, $transport);

        $first = $client->validate($this->dlid());
        $second = $client->validate($this->dlid());
        $nextDay = $this->client($cache, $transport, FixedClock::in('+23 hours'))->validate($this->dlid());

        self::assertSame(1, $transport->count(self::VALIDATE), 'one request for three validations');
        self::assertFalse($first->fromCache);
        foreach ([$second, $nextDay] as $cached) {
            self::assertTrue($cached->valid);
            self::assertTrue($cached->fromCache);
            self::assertFalse($cached->offline);
            self::assertEquals($first->checkedAt, $cached->checkedAt);
        }
        self::assertTrue($this->client($cache, url: $this->unreachableUrl())->validate($this->dlid())->fromCache);
    }

    public function testAStaleAnswerIsRenewedWhenLicenseflowAnswers(): void
    {
        $transport = new InterceptingTransport(new CurlTransport());
        $cache = $this->newCache();
        $this->client($cache, $transport)->validate($this->dlid());

        $renewed = $this->client($cache, $transport, FixedClock::in('+25 hours'))->validate($this->dlid());

        self::assertFalse($renewed->fromCache);
        self::assertSame(2, $transport->count(self::VALIDATE));
    }

    public function testARefreshAsksEvenWhenFresh(): void
    {
        $transport = new InterceptingTransport(new CurlTransport());
        $client = $this->client(transport: $transport);
        $client->validate($this->dlid());

        self::assertFalse($client->validate($this->dlid(), refresh: true)->fromCache);
        self::assertSame(2, $transport->count(self::VALIDATE));
    }

    public function testUnreachableLicenseflowServesTheCachedAnswerOfflineWithinGrace(): void
    {
        $cache = $this->newCache();
        $online = $this->client($cache)->validate($this->dlid());

        $outages = ['refused connection' => $this->unreachableUrl(), 'gateway 502' => $this->gatewayDownUrl()];
        foreach ($outages as $outage => $url) {
            $client = $this->client($cache, clock: FixedClock::in('+6 days 23 hours'), url: $url);
            $result = $client->validate($this->dlid());
            self::assertTrue($result->valid, $outage);
            self::assertSame('VALID', $result->code, $outage);
            self::assertTrue($result->fromCache, $outage);
            self::assertTrue($result->offline, $outage);
            self::assertEquals($online->checkedAt, $result->checkedAt, $outage);
        }
    }

    public function testBeyondGraceTheResultIsUnreachableNotInvalid(): void
    {
        $cache = $this->newCache();
        $this->client($cache)->validate($this->dlid());

        $client = $this->client($cache, clock: FixedClock::in('+7 days 1 hour'), url: $this->gatewayDownUrl());
        $result = $client->validate($this->dlid());
        self::assertFalse($result->valid);
        self::assertTrue($result->isUnreachable());
        self::assertSame(Result::UNREACHABLE, $result->code);
        self::assertTrue($result->offline);
        self::assertNull($result->license);
        self::assertStringContainsString('502', $result->detail);

        $longerGrace = $this->client(
            $cache,
            clock: FixedClock::in('+8 days'),
            url: $this->unreachableUrl(),
            graceFor: 10 * 86400,
        );
        self::assertTrue($longerGrace->validate($this->dlid())->offline, 'the grace window is the site\'s choice');
    }

    public function testWithoutACachedAnswerTheResultIsUnreachable(): void
    {
        $result = $this->client(url: $this->unreachableUrl())->validate($this->dlid());

        self::assertTrue($result->isUnreachable());
        self::assertFalse($result->valid);
    }

    public function testARefusalFromLicenseflowOverridesACachedValidAnswer(): void
    {
        $dlid = self::env('LICENSEFLOW_SECOND_DLID');
        $id = self::env('LICENSEFLOW_SECOND_ID');
        [$checkedNow, $checkedLater] = [$this->newCache(), $this->newCache()];
        self::assertTrue($this->client($checkedNow)->validate($dlid)->valid);
        self::assertTrue($this->client($checkedLater)->validate($dlid)->valid);

        self::assertSame(200, $this->admin('POST', "/api/v1/licensing/licenses/$id/suspend")->status);
        try {
            $refreshed = $this->client($checkedNow)->validate($dlid, refresh: true);
            $stale = $this->client($checkedLater, clock: FixedClock::in('+2 days'))->validate($dlid);
        } finally {
            self::assertSame(200, $this->admin('POST', "/api/v1/licensing/licenses/$id/reinstate")->status);
        }
        foreach (['refreshed' => $refreshed, 'stale' => $stale] as $case => $result) {
            self::assertFalse($result->valid, $case);
            self::assertSame('SUSPENDED', $result->code, $case);
            self::assertFalse($result->fromCache, $case);
        }
        $afterwards = $this->client($checkedNow, url: $this->unreachableUrl())->validate($dlid);
        self::assertSame('SUSPENDED', $afterwards->code, 'the refusal replaced the cached valid answer');
    }

    public function testACachedAnswerExpiresWithTheLicenseWhileOffline(): void
    {
        $cache = $this->newCache();
        $license = $this->client($cache)->validate($this->dlid())->license;
        self::assertNotNull($license?->expiresAt);
        self::assertNotNull($license->graceUntil);
        $offlineAt = fn (\DateTimeImmutable $at) => $this->client(
            $cache,
            clock: new FixedClock($at),
            url: $this->unreachableUrl(),
            graceFor: 800 * 86400, // a long outage, to reach the license's expiry
        )->validate($this->dlid());

        $inGrace = $offlineAt($license->expiresAt->modify('+1 day'));
        self::assertTrue($inGrace->valid);
        self::assertTrue($inGrace->inGrace());
        self::assertTrue($inGrace->offline);
        $expired = $offlineAt($license->graceUntil->modify('+1 second'));
        self::assertFalse($expired->valid);
        self::assertSame('EXPIRED', $expired->code);
    }

    public function testATamperedCacheFileIsRejected(): void
    {
        $dir = $this->cacheDir();
        $this->client($dir)->validate($this->dlid());
        $file = $dir . '/' . AnswerCache::key(strtolower($this->dlid())) . '.cache';
        $original = (string) file_get_contents($file);

        $edits = [
            'more domains' => ['\"max_domains\":2', '\"max_domains\":9'],
            'younger answer' => ['\"ts\":\"', '\"ts\":\"3'],
        ];
        foreach ($edits as $edit => [$from, $to]) {
            self::assertStringContainsString($from, $original, $edit);
            file_put_contents($file, str_replace($from, $to, $original));

            $offline = $this->client($dir, url: $this->unreachableUrl())->validate($this->dlid());
            self::assertTrue($offline->isUnreachable(), "$edit: an edited cache entry is no answer");

            $transport = new InterceptingTransport(new CurlTransport());
            $online = $this->client($dir, $transport)->validate($this->dlid());
            self::assertFalse($online->fromCache, $edit);
            self::assertSame(1, $transport->count(self::VALIDATE), "$edit: licenseflow is asked again");
            file_put_contents($file, $original);
        }
    }

    public function testACachedAnswerCannotBeCopiedToAnotherKey(): void
    {
        $dir = $this->cacheDir();
        $this->client($dir)->validate($this->dlid());
        copy(
            $dir . '/' . AnswerCache::key(strtolower($this->dlid())) . '.cache',
            $dir . '/' . AnswerCache::key(self::UNKNOWN_KEY) . '.cache',
        );

        $result = $this->client($dir, url: $this->unreachableUrl())->validate(self::UNKNOWN_KEY);

        self::assertFalse($result->valid, 'a valid answer for one key does not validate another');
        self::assertTrue($result->isUnreachable());
    }

    public function testTheKeyIsNeverWrittenToTheCache(): void
    {
        $dir = $this->cacheDir();
        $client = $this->client($dir);
        $client->validate($this->dlid());
        $client->requestToken($this->dlid());

        foreach (glob($dir . '/*') ?: [] as $file) {
            $content = (string) file_get_contents($file);
            self::assertStringNotContainsStringIgnoringCase($this->dlid(), $content, basename($file));
        }
        self::assertCount(2, glob($dir . '/*.cache') ?: [], 'the answers and the public keys, no temporary files');
    }
}
