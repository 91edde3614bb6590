<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests;

use Licenseflow\Client\Exception\RequestException;
use Licenseflow\Client\Http\CurlTransport;
use Licenseflow\Client\Tests\Support\InterceptingTransport;

final class ValidationTest extends ServerTestCase
{
    public function testAValidKeyIsValidWithItsLicense(): void
    {
        $result = $this->client()->validate($this->dlid());

        self::assertTrue($result->valid);
        self::assertSame('VALID', $result->code);
        self::assertFalse($result->fromCache);
        self::assertFalse($result->offline);
        self::assertNotNull($result->license);
        self::assertSame('pos', $result->license->tier);
        self::assertSame(2, $result->license->maxDomains);
        self::assertTrue($result->license->entitles('MokoSuitePOS'));
        self::assertFalse($result->license->entitles('MokoSuiteCRM'));
        self::assertSame(2, $result->activationLimit);
        self::assertNotNull($result->checkedAt);
    }

    public function testTheNonceIsSentAndEchoedInTheSignedAnswer(): void
    {
        $transport = new InterceptingTransport(new CurlTransport());
        $this->client(transport: $transport)->validate($this->dlid());

        [$request, $response] = $transport->last(self::VALIDATE);
        $sent = json_decode((string) $request->body, true)['nonce'];
        self::assertMatchesRegularExpression('/^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}$/', $sent);
        self::assertSame($sent, json_decode($response->body, true)['nonce']);
        self::assertNotNull($response->header('X-Licenseflow-Signature'));
    }

    public function testAnUnknownKeyIsNotFound(): void
    {
        $result = $this->client()->validate(self::UNKNOWN_KEY);

        self::assertFalse($result->valid);
        self::assertSame('NOT_FOUND', $result->code);
        self::assertNull($result->license);
        self::assertFalse($result->isUnreachable());
    }

    public function testADomainThatWasNeverActivatedIsRefused(): void
    {
        $result = $this->client()->validate($this->dlid(), 'https://www.never-activated.example/administrator');

        self::assertFalse($result->valid);
        self::assertSame('DOMAIN_NOT_ACTIVATED', $result->code);
        self::assertNotSame('', $result->detail);
    }

    public function testAProductOutsideTheLicenseIsNotEntitled(): void
    {
        $client = $this->client();

        self::assertSame('NOT_ENTITLED', $client->validate($this->dlid(), product: 'crm')->code);
        self::assertSame('VALID', $client->validate($this->dlid(), product: 'MokoSuitePOS')->code);
    }

    public function testAMalformedRequestIsRefusedWithLicenseflowsMessage(): void
    {
        try {
            $this->client()->validate($this->dlid(), 'exa mple.com');
            self::fail('a malformed domain must be refused');
        } catch (RequestException $e) {
            self::assertSame('invalid_domain', $e->errorCode);
            self::assertSame('domain', $e->field);
            self::assertGreaterThanOrEqual(400, $e->status);
            self::assertStringContainsString('exa mple.com', $e->getMessage());
        }
    }
}
