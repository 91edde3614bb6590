<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests;

use Licenseflow\Client\Base64Url;
use Licenseflow\Client\Exception\RequestException;
use Licenseflow\Client\Exception\SignatureException;
use Licenseflow\Client\Tests\Support\FixedClock;

final class TokenTest extends ServerTestCase
{
    public function testAnOfflineTokenVerifiesWithThePublicKeyAlone(): void
    {
        $cache = $this->newCache();
        $token = $this->client($cache)->requestToken($this->dlid());

        $offline = $this->client($cache, url: $this->unreachableUrl());
        $claims = $offline->verifyToken($token);
        self::assertSame(strtolower($this->dlid()), $claims->dlid);
        self::assertSame('pos', $claims->tier);
        self::assertSame(2, $claims->maxDomains);
        self::assertContains('MokoSuitePOS', $claims->entitlements);
        self::assertNotSame('', $claims->keyId);
        self::assertTrue($offline->checkToken($token, $this->dlid()));
        self::assertFalse($offline->checkToken($token, self::UNKNOWN_KEY), 'the token belongs to its own key');
    }

    public function testATamperedTokenIsRejected(): void
    {
        $client = $this->client();
        $token = $client->requestToken($this->dlid());
        [$payload, $signature] = explode('.', $token);
        $claims = json_decode((string) Base64Url::decode($payload), true);
        $claims['tier'] = 'suite';
        $claims['max_domains'] = 100;
        $upgraded = Base64Url::encode(json_encode($claims, JSON_UNESCAPED_SLASHES)) . '.' . $signature;
        $flipped = $payload . '.' . ($signature[0] === 'A' ? 'B' : 'A') . substr($signature, 1);

        $forgeries = [
            'upgraded claims' => $upgraded,
            'changed signature' => $flipped,
            'not a token' => 'garbage',
            'no signature' => $payload,
        ];
        foreach ($forgeries as $case => $forged) {
            try {
                $client->verifyToken($forged);
                self::fail("$case must not verify");
            } catch (SignatureException) {
                self::assertFalse($client->checkToken($forged), $case);
            }
        }
    }

    public function testATokenIsUsableUntilItsValidUntilOnly(): void
    {
        $cache = $this->newCache();
        $token = $this->client($cache)->requestToken($this->dlid());
        $claims = $this->client($cache)->verifyToken($token);
        self::assertNotNull($claims->validUntil);
        self::assertNotNull($claims->expiresAt);
        self::assertLessThan($claims->expiresAt, $claims->validUntil, 'the token ends long before the license');

        $lastSecond = new FixedClock($claims->validUntil->modify('-1 second'));
        $expired = new FixedClock($claims->validUntil);
        self::assertTrue($this->client($cache, clock: $lastSecond)->checkToken($token));
        self::assertFalse($this->client($cache, clock: $expired)->checkToken($token), 'an expired token is refused');
    }

    public function testATokenSignedByARetiredKeyFailsOnceTheKeysAreADayOld(): void
    {
        $cache = $this->newCache();
        $token = $this->client($cache)->requestToken($this->dlid());
        $kid = $this->client($cache)->verifyToken($token)->keyId;
        $retired = $this->admin('POST', '/api/v1/keys/' . $kid . '/retire');
        self::assertSame(200, $retired->status, $retired->body);

        self::assertTrue($this->client($cache)->checkToken($token), 'keys fetched less than a day ago still verify it');
        $dayLater = FixedClock::in('+1 day +1 minute');
        self::assertFalse(
            $this->client($cache, clock: $dayLater)->checkToken($token),
            'a day after the keys were fetched they are fetched again, and the retired key verifies nothing',
        );
        $offline = $this->client($cache, url: $this->unreachableUrl(), clock: FixedClock::in('+3 days'));
        self::assertFalse($offline->checkToken($token), 'offline, the keys last fetched stand: still without the retired key');
        $fresh = $this->client($cache, clock: $dayLater)->requestToken($this->dlid());
        self::assertTrue($offline->checkToken($fresh), 'the key that replaced it verifies, offline too');
    }

    public function testAnUnknownKeyGetsNoToken(): void
    {
        try {
            $this->client()->requestToken(self::UNKNOWN_KEY);
            self::fail('no token for a key that matches nothing');
        } catch (RequestException $e) {
            self::assertSame(403, $e->status);
            self::assertSame('not_found', $e->errorCode);
        }
    }
}
