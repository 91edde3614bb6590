<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests;

use Licenseflow\Client\Exception\RequestException;
use Licenseflow\Client\Http\CurlTransport;
use Licenseflow\Client\Http\Request;
use Licenseflow\Client\Http\Response;
use Licenseflow\Client\Http\Transport;

/**
 * A relay (hosts file or DNS the pirate controls) that keeps the site's
 * nonce but asks licenseflow about another, valid key: the answer must not
 * reach the site as a valid answer to its own question.
 */
final class RelayTest extends ServerTestCase
{
    /** @param \Closure(array<string, mixed>): array<string, mixed> $rewrite */
    private function relay(\Closure $rewrite): Transport
    {
        return new class (new CurlTransport(), $rewrite) implements Transport {
            public function __construct(private readonly Transport $inner, private readonly \Closure $rewrite)
            {
            }

            public function send(Request $request): Response
            {
                if ($request->body !== null && str_ends_with($request->url, ServerTestCase::VALIDATE)) {
                    $body = ($this->rewrite)(json_decode($request->body, true, flags: JSON_THROW_ON_ERROR));
                    $request = new Request($request->method, $request->url, $request->headers, json_encode($body));
                }
                return $this->inner->send($request);
            }
        };
    }

    public function testAnotherKeyForwardedWithTheSitesNonceIsNotBelieved(): void
    {
        $valid = $this->dlid();
        $swap = static function (array $body) use ($valid): array {
            $body['dlid'] = $valid; // the nonce stays the site's own
            unset($body['domain'], $body['product']);
            return $body;
        };
        try {
            $result = $this->client(transport: $this->relay($swap))
                ->validate(self::UNKNOWN_KEY, 'pirate-shop.com', 'MokoSuiteERP');
            self::fail('the relayed answer was taken: valid=' . var_export($result->valid, true));
        } catch (RequestException $e) {
            self::assertSame(422, $e->status);
            self::assertSame('nonce_mismatch', $e->errorCode);
        }
    }

    public function testAnotherDomainOfTheSameKeyForwardedIsNotBelieved(): void
    {
        $swap = static function (array $body): array {
            $body['domain'] = 'licensed-shop.example.com';
            return $body;
        };
        $this->expectException(RequestException::class);
        $this->client(transport: $this->relay($swap))->validate($this->dlid(), 'pirate-shop.com');
    }

    public function testTheAnswerNamesTheQuestionItAnswers(): void
    {
        $spy = new Support\InterceptingTransport(new CurlTransport());
        $this->client(transport: $spy)->validate(strtoupper($this->dlid()), 'https://www.Relay-Check.example.com/x', 'MokoSuitePOS');
        [, $response] = $spy->last(self::VALIDATE);
        $scope = json_decode($response->body, true)['scope'];
        self::assertSame([
            'key_sha256' => hash('sha256', $this->dlid()),
            'domain' => 'relay-check.example.com',
            'product' => 'MokoSuitePOS',
        ], $scope);
    }
}
