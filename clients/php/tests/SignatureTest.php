<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests;

use Licenseflow\Client\Base64Url;
use Licenseflow\Client\Exception\SignatureException;
use Licenseflow\Client\Http\CurlTransport;
use Licenseflow\Client\Http\Request;
use Licenseflow\Client\Http\Response;
use Licenseflow\Client\Tests\Support\InterceptingTransport;

/**
 * Real answers altered between licenseflow and the site, as a man in the
 * middle (or a "nulled" plugin's fake server) would.
 */
final class SignatureTest extends ServerTestCase
{
    /**
     * @param \Closure(Response): Response $alter applied to validation answers only
     */
    private function tampering(\Closure $alter): InterceptingTransport
    {
        return new InterceptingTransport(
            new CurlTransport(),
            static fn (Request $request, Response $response): Response => str_ends_with($request->url, self::VALIDATE)
                ? $alter($response) : $response,
        );
    }

    private static function withBody(Response $response, string $body): Response
    {
        return new Response($response->status, $response->headers, $body);
    }

    public function testAnInvalidAnswerTurnedValidIsRejected(): void
    {
        $forge = static fn (Response $r): Response
            => self::withBody($r, str_replace('"valid":false', '"valid":true', $r->body));
        $cache = $this->newCache();

        try {
            $this->client($cache, $this->tampering($forge))->validate(self::UNKNOWN_KEY);
            self::fail('a forged "valid":true must not be believed');
        } catch (SignatureException $e) {
            self::assertStringContainsString('does not verify', $e->getMessage());
        }
        $offline = $this->client($cache, url: $this->unreachableUrl())->validate(self::UNKNOWN_KEY);
        self::assertTrue($offline->isUnreachable(), 'nothing forged was cached');
    }

    public function testChangingAnyOneByteOfTheAnswerIsRejected(): void
    {
        foreach (['first' => 0, 'middle' => null, 'last' => -1] as $where => $position) {
            $flip = static function (Response $r) use ($position): Response {
                $body = $r->body;
                $i = $position ?? intdiv(strlen($body), 2);
                $body[$i] = chr(ord($body[$i]) ^ 0x01);
                return self::withBody($r, $body);
            };
            try {
                $this->client(transport: $this->tampering($flip))->validate($this->dlid());
                self::fail("a changed $where byte must be detected");
            } catch (SignatureException) {
                $this->addToAssertionCount(1);
            }
        }
    }

    public function testAnUnsignedAnswerIsRejected(): void
    {
        $strip = static fn (Response $r): Response => new Response(
            $r->status,
            array_diff_key($r->headers, ['x-licenseflow-signature' => true]),
            $r->body,
        );

        $this->expectException(SignatureException::class);
        $this->expectExceptionMessage('not signed');
        $this->client(transport: $this->tampering($strip))->validate($this->dlid());
    }

    public function testAnAnswerSignedWithAnotherKeyIsRejected(): void
    {
        $impostor = sodium_crypto_sign_keypair();
        $resign = static function (Response $r) use ($impostor): Response {
            preg_match('/kid=([^,]+)/', (string) $r->header('X-Licenseflow-Signature'), $m);
            $signature = sodium_crypto_sign_detached($r->body, sodium_crypto_sign_secretkey($impostor));
            $header = sprintf('kid=%s, alg=ed25519, sig=%s', $m[1], Base64Url::encode($signature));
            $headers = ['x-licenseflow-signature' => $header];
            return new Response($r->status, $headers + $r->headers, $r->body);
        };

        $this->expectException(SignatureException::class);
        $this->client(transport: $this->tampering($resign))->validate($this->dlid());
    }

    public function testAGenuineAnswerReplayedForAnotherRequestIsRejected(): void
    {
        $recorded = null;
        $replay = static function (Response $r) use (&$recorded): Response {
            $recorded ??= $r; // the first genuine answer, replayed from then on
            return $recorded;
        };
        $client = $this->client(transport: $this->tampering($replay));
        self::assertTrue($client->validate($this->dlid(), refresh: true)->valid);

        $this->expectException(SignatureException::class);
        $this->expectExceptionMessage('nonce');
        $client->validate($this->dlid(), refresh: true);
    }

    public function testARotatedKeyIsFetchedOnceAndOldAnswersStillVerify(): void
    {
        $transport = new InterceptingTransport(new CurlTransport());
        $cache = $this->newCache();
        $client = $this->client($cache, $transport);
        self::assertTrue($client->validate($this->dlid())->valid);
        self::assertTrue($client->validate($this->dlid(), product: 'pos')->valid);
        self::assertSame(1, $transport->count(self::KEYS));

        $rotated = $this->admin('POST', '/api/v1/keys/rotate');
        self::assertSame(201, $rotated->status, $rotated->body);
        $newKid = json_decode($rotated->body, true)['kid'];

        self::assertTrue($client->validate($this->dlid(), refresh: true)->valid);
        [, $answer] = $transport->last(self::VALIDATE);
        self::assertStringContainsString('kid=' . $newKid . ',', (string) $answer->header('X-Licenseflow-Signature'));
        self::assertTrue($client->validate($this->dlid(), refresh: true)->valid);
        self::assertSame(2, $transport->count(self::KEYS), 'the new key id made one refresh');

        $reader = $this->client($cache, url: $this->unreachableUrl());
        self::assertTrue($reader->validate($this->dlid())->fromCache, 'the refreshed keys were cached');
        $signedBefore = $reader->validate($this->dlid(), product: 'pos');
        self::assertTrue($signedBefore->valid && $signedBefore->fromCache, 'a replaced key stays published for the overlap');
    }
}
