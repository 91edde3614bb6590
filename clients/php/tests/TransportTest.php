<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests;

use Licenseflow\Client\Exception\UnreachableException;
use Licenseflow\Client\Http\CurlTransport;
use Licenseflow\Client\Http\StreamTransport;
use Licenseflow\Client\Http\Transport;

/**
 * Both transports against the real server and the two kinds of outage.
 */
final class TransportTest extends ServerTestCase
{
    /**
     * @return array<string, array{Transport}>
     */
    public static function transports(): array
    {
        return ['curl' => [new CurlTransport(5.0)], 'stream' => [new StreamTransport(5.0)]];
    }

    /**
     * @dataProvider transports
     */
    public function testTheTransportCarriesSignedAnswers(Transport $transport): void
    {
        $client = $this->client(transport: $transport);

        self::assertSame('VALID', $client->validate($this->dlid())->code);
        self::assertSame('NOT_FOUND', $client->validate(self::UNKNOWN_KEY)->code);
    }

    /**
     * @dataProvider transports
     */
    public function testARefusedConnectionIsUnreachable(Transport $transport): void
    {
        $this->expectException(UnreachableException::class);
        $this->client(transport: $transport, url: $this->unreachableUrl())->activate($this->dlid(), 'nowhere.example');
    }

    /**
     * @dataProvider transports
     */
    public function testABadGatewayIsUnreachable(Transport $transport): void
    {
        $this->expectException(UnreachableException::class);
        $this->expectExceptionMessage('HTTP 502');
        $this->client(transport: $transport, url: $this->gatewayDownUrl())->heartbeat($this->dlid(), 'nowhere.example');
    }
}
