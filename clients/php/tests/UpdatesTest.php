<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests;

use Licenseflow\Client\Http\CurlTransport;
use Licenseflow\Client\Http\Request;
use Licenseflow\Client\Http\StreamTransport;
use Licenseflow\Client\Updates\Dolibarr;
use Licenseflow\Client\Updates\Joomla;
use Licenseflow\Client\Updates\Version;

/**
 * Joomla's update site and Dolibarr's version check, against the release
 * the Go test published (pos, stable channel).
 */
final class UpdatesTest extends ServerTestCase
{
    public function testJoomlaExtraQueryCarriesTheKey(): void
    {
        $extra = Joomla::extraQuery(' ' . strtoupper($this->dlid()) . ' ');

        self::assertSame('dlid=' . strtolower($this->dlid()), $extra);
        self::assertSame(strtolower($this->dlid()), Joomla::dlidFromExtraQuery($extra));
        self::assertSame('abc', Joomla::dlidFromExtraQuery('foo=1&dlid=ABC'));
        self::assertNull(Joomla::dlidFromExtraQuery(''));
        self::assertNull(Joomla::dlidFromExtraQuery('dlid='));
        $base = 'https://x.example';
        self::assertSame("$base/p.zip?dlid=k", Joomla::appendExtraQuery("$base/p.zip", 'dlid=k'));
        self::assertSame("$base/f.xml?a=1&dlid=k", Joomla::appendExtraQuery("$base/f.xml?a=1", '&dlid=k'));
        self::assertSame('https://x.example/f.xml', Joomla::appendExtraQuery('https://x.example/f.xml', ''));
        self::assertSame('https://lf.example/updates/pos.xml', Joomla::updateServerUrl('https://lf.example/', 'pos'));
    }

    public function testJoomlaGetsTheEntitledReleaseAndItsPackageWithTheExtraQuery(): void
    {
        $extra = Joomla::extraQuery($this->dlid());
        $http = new CurlTransport();
        $feedUrl = Joomla::appendExtraQuery(Joomla::updateServerUrl($this->serverUrl(), 'pos'), $extra);
        $feed = $http->send(new Request('GET', $feedUrl));
        self::assertSame(200, $feed->status);
        $updates = new \SimpleXMLElement($feed->body);
        self::assertCount(1, $updates->update);
        self::assertSame(self::env('LICENSEFLOW_RELEASE'), (string) $updates->update->version);
        self::assertStringEndsWith('?' . $extra, (string) $updates->update->downloads->downloadurl);
        self::assertSame(self::env('LICENSEFLOW_RELEASE_SHA256'), (string) $updates->update->sha256);

        $package = $http->send(new Request('GET', Joomla::appendExtraQuery(
            $this->serverUrl() . '/downloads/pos/' . self::env('LICENSEFLOW_RELEASE'),
            $extra,
        )));
        self::assertSame(200, $package->status, $package->body);
        self::assertSame(self::env('LICENSEFLOW_RELEASE_SHA256'), hash('sha256', $package->body));

        $anonymous = $http->send(new Request('GET', Joomla::updateServerUrl($this->serverUrl(), 'pos')));
        self::assertCount(0, (new \SimpleXMLElement($anonymous->body))->update, 'no key, no versions');
    }

    public function testUpdatesNamingTheSiteServeOnlyDomainsActivatedOnTheLicense(): void
    {
        $client = $this->client();
        $release = self::env('LICENSEFLOW_RELEASE');
        $site = 'updates.example.com';
        self::assertTrue($client->activate($this->dlid(), $site)->activated);
        try {
            $extra = Joomla::extraQuery($this->dlid(), ' WWW.Updates.Example.com ');
            self::assertSame('dlid=' . strtolower($this->dlid()) . '&domain=www.updates.example.com', $extra);
            $http = new CurlTransport();
            $feedUrl = Joomla::appendExtraQuery(Joomla::updateServerUrl($this->serverUrl(), 'pos'), $extra);
            $updates = new \SimpleXMLElement($http->send(new Request('GET', $feedUrl))->body);
            self::assertCount(1, $updates->update, 'the activated site sees the release');
            self::assertStringEndsWith('?' . Joomla::extraQuery($this->dlid()), (string) $updates->update->downloads->downloadurl);
            $package = $http->send(new Request('GET', Joomla::appendExtraQuery(
                $this->serverUrl() . '/downloads/pos/' . $release,
                $extra,
            )));
            self::assertSame(200, $package->status, $package->body);

            $pirate = Joomla::extraQuery($this->dlid(), 'pirate-shop.com');
            $feedUrl = Joomla::appendExtraQuery(Joomla::updateServerUrl($this->serverUrl(), 'pos'), $pirate);
            self::assertCount(0, (new \SimpleXMLElement($http->send(new Request('GET', $feedUrl))->body))->update, 'another site sees nothing');
            $download = $this->serverUrl() . '/downloads/pos/' . $release . '?' . $pirate;
            self::assertSame(403, $http->send(new Request('GET', $download))->status);

            self::assertSame($release, $client->latestVersion('pos', $this->dlid(), $site));
            self::assertNull($client->latestVersion('pos', $this->dlid(), 'pirate-shop.com'));
            self::assertSame($release, $client->updateAvailable('pos', $this->dlid(), '2.0.9', $site));
            $url = Dolibarr::lastVersionUrl($this->serverUrl(), 'pos', $this->dlid(), $site);
            self::assertStringEndsWith('&domain=' . $site, $url);
            self::assertSame($release, (new StreamTransport())->send(new Request('GET', $url))->body);
        } finally {
            $client->deactivate($this->dlid(), $site);
        }
    }

    public function testDolibarrLearnsTheLatestVersionAndWhetherToUpdate(): void
    {
        $client = $this->client();
        $release = self::env('LICENSEFLOW_RELEASE');

        self::assertSame($release, $client->latestVersion('pos', $this->dlid()));
        self::assertNull($client->latestVersion('pos', self::UNKNOWN_KEY), 'empty answer: nothing to install');
        self::assertSame($release, $client->updateAvailable('pos', $this->dlid(), '2.0.9'));
        self::assertNull($client->updateAvailable('pos', $this->dlid(), $release));
        self::assertNull($client->updateAvailable('pos', $this->dlid(), '10.0.0'));

        $url = Dolibarr::lastVersionUrl($this->serverUrl() . '/', 'pos', strtoupper($this->dlid()));
        self::assertSame($this->serverUrl() . '/updates/pos/latest?dlid=' . strtolower($this->dlid()), $url);
        $fetched = (new StreamTransport())->send(new Request('GET', $url));
        self::assertSame($release, $fetched->body, 'what Dolibarr itself fetches');
    }

    /**
     * @return array<string, array{string, string, int}>
     */
    public static function versions(): array
    {
        return [
            'numeric, not text' => ['1.10.0', '1.9.0', 1],
            'missing parts are zero' => ['2.0', '2.0.0', 0],
            'v prefix' => ['v2.1.0', '2.1.0', 0],
            'release after its beta' => ['1.1.0', '1.1.0-beta.1', 1],
            'beta after alpha' => ['1.0.0-beta', '1.0.0-alpha.1', 1],
            'numbered pre-releases' => ['1.0.0-beta.11', '1.0.0-beta.2', 1],
            'more identifiers later' => ['1.0.0-alpha.1', '1.0.0-alpha', 1],
            'number before word' => ['1.0.0-alpha.1', '1.0.0-alpha.beta', -1],
            'rc before release' => ['1.0.0-rc.1', '1.0.0', -1],
            'build metadata ignored' => ['1.0.0+build.5', '1.0.0', 0],
            'older' => ['2.0.9', '2.1.0', -1],
        ];
    }

    /**
     * @dataProvider versions
     */
    public function testVersionsCompareBySemanticVersioning(string $a, string $b, int $expected): void
    {
        self::assertSame($expected, Version::compare($a, $b));
        self::assertSame(-$expected, Version::compare($b, $a));
        self::assertSame($expected > 0, Version::isNewer($a, $b));
    }
}
