<?php

declare(strict_types=1);

namespace Licenseflow\Client;

use Licenseflow\Client\Cache\Cache;
use Licenseflow\Client\Clock\Clock;
use Licenseflow\Client\Exception\RequestException;
use Licenseflow\Client\Exception\SignatureException;
use Licenseflow\Client\Exception\UnreachableException;

/**
 * Licenseflow's Ed25519 public keys by key id, and the checks that use
 * them. Keys come from GET /api/v1/keys/public and are cached; a set older
 * than REFRESH_AFTER is fetched again at its next use, so a key licenseflow
 * retired (a leaked one) stops verifying within a day. While licenseflow
 * cannot be reached the cached set goes on serving. A signature by an
 * unknown key id triggers one refresh, then fails. Pinned keys are never
 * fetched.
 *
 * @internal
 */
final class KeyRing
{
    public const CACHE_KEY = 'public-keys';
    /** Seconds a fetched set of keys is used before it is fetched again. */
    public const REFRESH_AFTER = 86400;

    /** @var array<string, string>|null key id => 32-byte public key */
    private ?array $keys;
    /** When $keys were fetched (Unix time); 0 when unknown. */
    private int $fetchedAt = 0;
    /** @var array<string, true> key ids already refreshed for */
    private array $refreshedFor = [];
    /** Whether a stale set was already refreshed, or tried, by this instance. */
    private bool $staleTried = false;

    /**
     * @param \Closure(): string $fetch returns the body of GET /api/v1/keys/public
     * @param array<string, string>|null $pinned key id => base64 public key
     */
    public function __construct(
        private readonly \Closure $fetch,
        private readonly Cache $cache,
        private readonly Clock $clock,
        private readonly ?array $pinned = null,
    ) {
        $this->keys = $pinned === null ? null : self::decodeKeys($pinned);
    }

    /**
     * Checks an answer's X-Licenseflow-Signature header
     * ("kid=…, alg=ed25519, sig=<base64url>") over the exact body bytes.
     *
     * @throws SignatureException
     * @throws UnreachableException when a key must be fetched and cannot be
     */
    public function verifyAnswer(string $body, ?string $header): void
    {
        if ($header === null || $header === '') {
            throw new SignatureException('the answer is not signed; it did not come from licenseflow unchanged');
        }
        $fields = [];
        foreach (explode(',', $header) as $part) {
            $pair = explode('=', trim($part), 2);
            if (count($pair) === 2) {
                $fields[$pair[0]] = $pair[1];
            }
        }
        if (($fields['alg'] ?? '') !== 'ed25519') {
            throw new SignatureException(sprintf('unsupported signature algorithm "%s"', $fields['alg'] ?? ''));
        }
        $this->check($body, $fields['sig'] ?? '', $fields['kid'] ?? '', 'answer');
    }

    /**
     * Checks an offline license token (base64url JSON "." base64url
     * signature of that first part) and returns its payload.
     *
     * @return array<string, mixed>
     * @throws SignatureException
     * @throws UnreachableException when a key must be fetched and cannot be
     */
    public function verifyToken(string $token): array
    {
        $parts = explode('.', trim($token));
        $payload = count($parts) === 2 ? Base64Url::decode($parts[0]) : null;
        $claims = $payload === null ? null : json_decode($payload, true);
        if (!is_array($claims)) {
            throw new SignatureException('not a licenseflow license token');
        }
        $this->check($parts[0], $parts[1], (string) ($claims['kid'] ?? ''), 'license token');
        return $claims;
    }

    private function check(string $message, string $signature, string $kid, string $what): void
    {
        $key = $this->key($kid);
        $raw = Base64Url::decode($signature);
        if ($raw === null || strlen($raw) !== SODIUM_CRYPTO_SIGN_BYTES) {
            throw new SignatureException(sprintf('the %s signature is malformed', $what));
        }
        if (!sodium_crypto_sign_verify_detached($raw, $message, $key)) {
            throw new SignatureException(
                sprintf('the %s signature does not verify: it was changed after licenseflow signed it', $what)
            );
        }
    }

    private function key(string $kid): string
    {
        if ($this->keys === null) {
            $this->keys = $this->fromCache() ?? [];
        }
        if ($this->pinned === null && !$this->staleTried
            && $this->clock->now()->getTimestamp() - $this->fetchedAt >= self::REFRESH_AFTER) {
            $this->staleTried = true;
            try {
                $this->refresh();
            } catch (UnreachableException | RequestException) {
                // Offline: the cached keys go on serving until licenseflow answers.
            }
        }
        if (!isset($this->keys[$kid]) && $this->pinned === null && !isset($this->refreshedFor[$kid])) {
            $this->refresh();
            // Only a refresh that happened counts: after a failed one (offline)
            // the next check may try again.
            $this->refreshedFor[$kid] = true;
        }
        if (!isset($this->keys[$kid])) {
            throw new SignatureException(sprintf('signed by unknown key id "%s"', $kid));
        }
        return $this->keys[$kid];
    }

    private function refresh(): void
    {
        $body = ($this->fetch)();
        $keys = self::parse($body);
        if ($keys === null) {
            throw new UnreachableException('licenseflow did not answer with its public keys');
        }
        $this->keys = $keys;
        $this->fetchedAt = $this->clock->now()->getTimestamp();
        $this->cache->set(self::CACHE_KEY, (string) json_encode(['fetched_at' => $this->fetchedAt, 'body' => $body]));
    }

    /** @return array<string, string>|null */
    private function fromCache(): ?array
    {
        $entry = json_decode($this->cache->get(self::CACHE_KEY) ?? '', true);
        if (!is_array($entry) || !is_string($entry['body'] ?? null)) {
            return null; // nothing cached, or cached by an older client: fetched again
        }
        $this->fetchedAt = is_int($entry['fetched_at'] ?? null) ? $entry['fetched_at'] : 0;
        return self::parse($entry['body']);
    }

    /** @return array<string, string>|null */
    private static function parse(string $body): ?array
    {
        $list = json_decode($body, true)['keys'] ?? null;
        if (!is_array($list)) {
            return null;
        }
        $published = [];
        foreach ($list as $key) {
            if (is_array($key) && ($key['alg'] ?? '') === 'ed25519' && isset($key['kid'], $key['public_key'])) {
                $published[(string) $key['kid']] = (string) $key['public_key'];
            }
        }
        return self::decodeKeys($published);
    }

    /**
     * @param array<string, string> $base64 key id => base64 public key
     * @return array<string, string>
     */
    private static function decodeKeys(array $base64): array
    {
        $keys = [];
        foreach ($base64 as $kid => $text) {
            $raw = base64_decode($text, true);
            if ($raw !== false && strlen($raw) === SODIUM_CRYPTO_SIGN_PUBLICKEYBYTES) {
                $keys[(string) $kid] = $raw;
            }
        }
        return $keys;
    }
}
