<?php

declare(strict_types=1);

namespace Licenseflow\Client;

use Licenseflow\Client\Cache\Cache;
use Licenseflow\Client\Cache\FileCache;
use Licenseflow\Client\Clock\Clock;
use Licenseflow\Client\Clock\SystemClock;
use Licenseflow\Client\Exception\LicenseflowException;
use Licenseflow\Client\Exception\RequestException;
use Licenseflow\Client\Exception\SignatureException;
use Licenseflow\Client\Exception\UnreachableException;
use Licenseflow\Client\Http\CurlTransport;
use Licenseflow\Client\Http\Request;
use Licenseflow\Client\Http\Response;
use Licenseflow\Client\Http\StreamTransport;
use Licenseflow\Client\Http\Transport;
use Licenseflow\Client\Updates\SiteQuery;
use Licenseflow\Client\Updates\Version;

/**
 * A site's connection to licenseflow: validation with a cache and offline
 * grace, domain activation, offline license tokens and update checks.
 * Every online answer is checked against licenseflow's Ed25519 signature
 * before anything is believed or cached.
 */
final class Client
{
    /** How long a signed answer is served without asking again (24 h). */
    public const FRESH_FOR = 86400;
    /** How long a signed answer stands in while licenseflow is unreachable (7 days). */
    public const GRACE_FOR = 7 * 86400;
    public const SIGNATURE_HEADER = 'X-Licenseflow-Signature';
    public const USER_AGENT = 'licenseflow-php/1.0';

    private readonly string $serverUrl;
    private readonly Transport $transport;
    private readonly Clock $clock;
    private readonly KeyRing $keys;
    private readonly AnswerCache $answers;

    /**
     * @param string $serverUrl licenseflow's address, e.g. https://licenses.vendor.example
     * @param Cache|string $cache a Cache, or a directory for the default FileCache (one per licenseflow server)
     * @param int $freshFor seconds a signed answer is served without a request
     * @param int $graceFor seconds a signed answer is served, flagged offline, while licenseflow is unreachable
     * @param array<string, string>|null $publicKeys key id => base64 Ed25519 key, to pin keys instead of fetching them
     * @param float $timeout seconds per request, for the default transport
     */
    public function __construct(
        string $serverUrl,
        Cache|string $cache,
        ?Transport $transport = null,
        ?Clock $clock = null,
        private readonly int $freshFor = self::FRESH_FOR,
        private readonly int $graceFor = self::GRACE_FOR,
        ?array $publicKeys = null,
        float $timeout = 10.0,
    ) {
        if ($freshFor < 0 || $graceFor < $freshFor) {
            throw new \InvalidArgumentException('freshFor must be >= 0 and graceFor >= freshFor');
        }
        $this->serverUrl = rtrim($serverUrl, '/');
        $cache = is_string($cache) ? new FileCache($cache) : $cache;
        $this->transport = $transport
            ?? (extension_loaded('curl') ? new CurlTransport($timeout) : new StreamTransport($timeout));
        $this->clock = $clock ?? new SystemClock();
        $this->keys = new KeyRing(fn (): string => $this->publicKeysBody(), $cache, $this->clock, $publicKeys);
        $this->answers = new AnswerCache($cache, $this->keys);
    }

    /**
     * Is the key good (for this domain, for this product)? A fresh cached
     * answer is served without a request; otherwise licenseflow is asked,
     * and if it cannot be reached a cached answer within the grace window
     * is served flagged offline, else the result is UNREACHABLE.
     *
     * @param ?string $domain the site's domain or URL; licenseflow then also checks it is activated
     * @param ?string $product the extension asking (product code or repository), checked against entitlements
     * @param bool $refresh ask licenseflow even if the cached answer is fresh (a "check now" button)
     * @throws SignatureException licenseflow's answer was altered or not signed
     * @throws RequestException licenseflow refused the request (e.g. a malformed domain)
     */
    public function validate(
        string $dlid,
        ?string $domain = null,
        ?string $product = null,
        bool $refresh = false,
    ): Result {
        $request = new SiteRequest($dlid, $domain, $product);
        $now = $this->clock->now();
        $cached = $this->answers->find($request);
        if ($cached !== null && !$refresh && $this->age($cached, $now) < $this->freshFor) {
            return Result::fromAnswer($cached, fromCache: true)->asOf($now);
        }
        try {
            return Result::fromAnswer($this->ask('validate', $request, keep: true));
        } catch (UnreachableException $e) {
            if ($cached !== null && $this->age($cached, $now) < $this->graceFor) {
                return Result::fromAnswer($cached, fromCache: true, offline: true)->asOf($now);
            }
            $window = $this->graceFor >= 86400
                ? intdiv($this->graceFor, 86400) . ' days'
                : intdiv($this->graceFor, 3600) . ' hours';
            return Result::unreachable(sprintf('%s; no answer from the last %s is cached', $e->getMessage(), $window));
        }
    }

    /**
     * Takes one of the license's domain slots for this site (activating an
     * active domain again takes no new slot). Not activated: code says why,
     * e.g. TOO_MANY_DOMAINS.
     *
     * @throws UnreachableException
     * @throws SignatureException
     * @throws RequestException
     */
    public function activate(string $dlid, string $domain): Result
    {
        $request = new SiteRequest($dlid, $domain);
        $answer = $this->ask('activate', $request, keep: false);
        // What was cached about this key may now be wrong (DOMAIN_NOT_ACTIVATED).
        $this->answers->forget($request->dlid);
        return Result::fromAnswer($answer);
    }

    /**
     * Frees this site's domain slot (when the extension is uninstalled or
     * moves to another domain).
     *
     * @throws UnreachableException
     * @throws SignatureException
     * @throws RequestException
     */
    public function deactivate(string $dlid, string $domain): Result
    {
        $request = new SiteRequest($dlid, $domain);
        $answer = $this->ask('deactivate', $request, keep: false);
        $this->answers->forget($request->dlid);
        return Result::fromAnswer($answer);
    }

    /**
     * Tells licenseflow the domain is still in use (run it daily: silent
     * domains are released after 30 days). The answer is a full validation
     * of the key for the domain and refreshes the cached one.
     *
     * @throws UnreachableException
     * @throws SignatureException
     * @throws RequestException
     */
    public function heartbeat(string $dlid, string $domain): Result
    {
        return Result::fromAnswer($this->ask('heartbeat', new SiteRequest($dlid, $domain), keep: true));
    }

    /**
     * Fetches an offline license token for the key, verified before it is
     * returned. Keep it with the site's settings; verifyToken() and
     * checkToken() need no connection afterwards (once the keys are cached).
     *
     * @throws UnreachableException
     * @throws SignatureException
     * @throws RequestException 403 when the key is not usable
     */
    public function requestToken(string $dlid): string
    {
        $body = json_encode(['dlid' => strtolower(trim($dlid))], JSON_THROW_ON_ERROR);
        $response = $this->send('POST', '/api/v1/licenses/token', $body);
        if ($response->status !== 200) {
            throw RequestException::fromResponse($response);
        }
        $token = json_decode($response->body, true)['token'] ?? null;
        if (!is_string($token)) {
            throw new LicenseflowException('licenseflow answered without a license token');
        }
        $this->verifyToken($token);
        return $token;
    }

    /**
     * Verifies an offline license token's signature and returns its claims;
     * whether the license is usable now is checkToken() or usableAt().
     *
     * @throws SignatureException the token was altered or is not licenseflow's
     * @throws UnreachableException it names a key id not cached yet and licenseflow cannot be reached
     */
    public function verifyToken(string $token): TokenClaims
    {
        return TokenClaims::fromArray($this->keys->verifyToken($token));
    }

    /**
     * Whether a token verifies, belongs to the key (when given) and is
     * usable now by the client's clock. Never throws: an altered token, an
     * unknown key id while offline or an expired license are all false.
     */
    public function checkToken(string $token, ?string $dlid = null): bool
    {
        try {
            $claims = $this->verifyToken($token);
        } catch (SignatureException | UnreachableException) {
            return false;
        }
        if ($dlid !== null && !hash_equals($claims->dlid, strtolower(trim($dlid)))) {
            return false;
        }
        return $claims->usableAt($this->clock->now());
    }

    /**
     * The newest version of a product the key may install (Dolibarr's
     * GET /updates/{product}/latest?dlid=), or null when there is none.
     * The answer is unsigned and only advisory: the download itself is
     * checked by licenseflow.
     *
     * @throws UnreachableException
     * @throws RequestException e.g. an unknown product
     */
    public function latestVersion(string $product, string $dlid, ?string $domain = null): ?string
    {
        $response = $this->send('GET', sprintf(
            '/updates/%s/latest?dlid=%s%s',
            rawurlencode($product),
            rawurlencode(strtolower(trim($dlid))),
            SiteQuery::domain($domain),
        ));
        if ($response->status !== 200) {
            throw RequestException::fromResponse($response);
        }
        $version = trim($response->body);
        return $version === '' ? null : $version;
    }

    /**
     * The newer version to offer, or null when the installed one is current.
     *
     * @throws UnreachableException
     * @throws RequestException
     */
    public function updateAvailable(string $product, string $dlid, string $installedVersion, ?string $domain = null): ?string
    {
        $latest = $this->latestVersion($product, $dlid, $domain);
        return $latest !== null && Version::isNewer($latest, $installedVersion) ? $latest : null;
    }

    /** Drops the cached answers of a key (e.g. when the customer enters a new one). */
    public function forget(string $dlid): void
    {
        $this->answers->forget($dlid);
    }

    /**
     * Posts a site request and returns its verified answer; keep caches it
     * as the answer to that question.
     *
     * @return array<string, mixed>
     */
    private function ask(string $action, SiteRequest $request, bool $keep): array
    {
        $response = $this->send('POST', '/api/v1/licenses/' . $action, $request->json());
        if ($response->status !== 200) {
            throw RequestException::fromResponse($response);
        }
        $signature = $response->header(self::SIGNATURE_HEADER);
        $answer = Answer::verified($response->body, $signature, $request, $this->keys, true);
        if ($keep) {
            $this->answers->store($request, $response->body, (string) $signature);
        }
        return $answer;
    }

    private function publicKeysBody(): string
    {
        $response = $this->send('GET', '/api/v1/keys/public');
        if ($response->status !== 200) {
            throw RequestException::fromResponse($response);
        }
        return $response->body;
    }

    /**
     * Sends a request; answers that say nothing about the license (5xx
     * during an outage, 429 rate limits) count as unreachable so the
     * cached answer can stand in.
     */
    private function send(string $method, string $path, ?string $body = null): Response
    {
        $headers = ['Accept' => 'application/json', 'User-Agent' => self::USER_AGENT];
        if ($body !== null) {
            $headers['Content-Type'] = 'application/json';
        }
        $response = $this->transport->send(new Request($method, $this->serverUrl . $path, $headers, $body));
        if ($response->status >= 500 || $response->status === 429) {
            $error = RequestException::fromResponse($response);
            throw new UnreachableException(
                sprintf('licenseflow could not answer (HTTP %d): %s', $response->status, $error->getMessage())
            );
        }
        return $response;
    }

    /**
     * Seconds since licenseflow signed the answer; a missing ts counts as
     * too old to serve.
     *
     * @param array<string, mixed> $answer
     */
    private function age(array $answer, \DateTimeImmutable $now): int
    {
        $signedAt = Time::parse($answer['ts'] ?? null);
        return $signedAt === null ? PHP_INT_MAX : $now->getTimestamp() - $signedAt->getTimestamp();
    }
}
