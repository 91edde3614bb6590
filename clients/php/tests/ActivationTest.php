<?php

declare(strict_types=1);

namespace Licenseflow\Client\Tests;

use Licenseflow\Client\Http\CurlTransport;
use Licenseflow\Client\Tests\Support\InterceptingTransport;

/**
 * The license has two domain slots; every test frees what it takes.
 */
final class ActivationTest extends ServerTestCase
{
    /** @var list<string> */
    private array $taken = [];

    protected function tearDown(): void
    {
        $client = $this->client();
        foreach ($this->taken as $domain) {
            $client->deactivate($this->dlid(), $domain);
        }
    }

    public function testDomainsActivateUpToTheLimitThenAreRefused(): void
    {
        $client = $this->client();
        // Production names: *.example names are staging copies, which take no slot.
        $this->taken = ['one.example.com', 'two.example.com'];

        $first = $client->activate($this->dlid(), 'https://www.One.example.com/');
        self::assertTrue($first->activated);
        self::assertTrue($first->valid);
        self::assertSame(1, $first->activationUsage);
        $second = $client->activate($this->dlid(), 'two.example.com');
        self::assertTrue($second->activated);
        self::assertSame(2, $second->activationUsage);
        self::assertSame(['one.example.com', 'two.example.com'], $second->license?->activeDomains);

        $third = $client->activate($this->dlid(), 'three.example.com');
        self::assertFalse($third->activated);
        self::assertFalse($third->valid);
        self::assertSame('TOO_MANY_DOMAINS', $third->code);
        self::assertSame(2, $third->activationLimit);
        self::assertSame('TOO_MANY_DOMAINS', $client->validate($this->dlid(), 'three.example.com')->code);
        self::assertSame('VALID', $client->validate($this->dlid(), 'one.example.com')->code);

        $freed = $client->deactivate($this->dlid(), 'two.example.com');
        self::assertTrue($freed->deactivated);
        self::assertSame(1, $freed->activationUsage);
        $this->taken = ['one.example.com', 'three.example.com'];
        self::assertTrue($client->activate($this->dlid(), 'three.example.com')->activated, 'the freed slot is taken');
    }

    public function testTheSiteGuideExampleLicensesASite(): void
    {
        $guide = (string) file_get_contents(__DIR__ . '/../../../docs/sites.md');
        self::assertSame(1, preg_match('/^## PHP client for sites$.*?^```php\n(.*?)^```/ms', $guide, $example));
        $code = strtr($example[1], [
            "'https://licenses.vendor.example'" => var_export($this->serverUrl(), true),
            "__DIR__ . '/cache/licenseflow'" => var_export($this->cacheDir(), true),
            "'https://www.shop.example'" => "'https://www.readme.example'",
        ]);
        self::assertLessThanOrEqual(10, substr_count($code, "\n"), 'a ten-line example');
        $this->taken = ['readme.example'];
        $dlid = $this->dlid();

        eval($code); // the site guide's lines as written, pointed at the test server

        self::assertTrue($licensed ?? null);
        self::assertSame('VALID', $result->code);
        self::assertSame(['readme.example'], $result->license?->activeDomains);
    }

    public function testDeactivatingADomainThatIsNotActiveSaysSo(): void
    {
        $result = $this->client()->deactivate($this->dlid(), 'not-active.example');

        self::assertFalse($result->deactivated);
        self::assertSame('DOMAIN_NOT_ACTIVATED', $result->code);
    }

    public function testActivatingReplacesTheCachedRefusal(): void
    {
        $transport = new InterceptingTransport(new CurlTransport());
        $client = $this->client(transport: $transport);
        $this->taken = ['late.example'];

        self::assertSame('DOMAIN_NOT_ACTIVATED', $client->validate($this->dlid(), 'late.example')->code);
        $client->activate($this->dlid(), 'late.example');
        $after = $client->validate($this->dlid(), 'late.example');

        self::assertSame('VALID', $after->code, 'the refusal cached before the activation is not served');
        self::assertFalse($after->fromCache);
        self::assertSame(2, $transport->count(self::VALIDATE));
    }

    public function testAHeartbeatValidatesTheDomainAndRefreshesTheCache(): void
    {
        $cache = $this->newCache();
        $client = $this->client($cache);
        $this->taken = ['beat.example'];
        $client->activate($this->dlid(), 'beat.example');

        $beat = $client->heartbeat($this->dlid(), 'beat.example');
        self::assertTrue($beat->valid);
        self::assertSame('VALID', $beat->code);

        $offline = $this->client($cache, url: $this->unreachableUrl())->validate($this->dlid(), 'beat.example');
        self::assertTrue($offline->valid, 'the heartbeat answer serves the next validation');
        self::assertTrue($offline->fromCache);
        self::assertFalse($offline->offline, 'it is fresh');
    }

    public function testAHeartbeatForAnInactiveDomainIsNotValid(): void
    {
        $result = $this->client()->heartbeat($this->dlid(), 'silent.example');

        self::assertFalse($result->valid);
        self::assertSame('DOMAIN_NOT_ACTIVATED', $result->code);
    }
}
