<?php

declare(strict_types=1);

namespace Licenseflow\Client;

use Licenseflow\Client\Cache\Cache;
use Licenseflow\Client\Exception\LicenseflowException;

/**
 * Signed answers kept per key: one cache entry per key (named by its
 * SHA-256, so the key itself is never written), holding the exact body
 * and signature header of the last answer to each question. Entries are
 * verified again whenever they are read; the age of an answer is taken
 * from its signed ts, so editing a file cannot make an answer younger.
 *
 * @internal
 */
final class AnswerCache
{
    public function __construct(
        private readonly Cache $cache,
        private readonly KeyRing $keys,
    ) {
    }

    /**
     * The cached answer to a question, verified, or null when there is
     * none or it does not verify (a tampered file counts as no answer).
     *
     * @return array<string, mixed>|null the answer's JSON
     */
    public function find(SiteRequest $request): ?array
    {
        $entry = $this->entries($request->dlid)[$request->slot()] ?? null;
        if (!is_array($entry) || !is_string($entry['body'] ?? null) || !is_string($entry['signature'] ?? null)) {
            return null;
        }
        try {
            return Answer::verified($entry['body'], $entry['signature'], $request, $this->keys, false);
        } catch (LicenseflowException) { // altered, or its key cannot be had now
            return null;
        }
    }

    /**
     * Read, change, write: two page loads storing at once each write a whole
     * file and the last one wins, which costs at most one more request later.
     */
    public function store(SiteRequest $request, string $body, string $signature): void
    {
        $entries = $this->entries($request->dlid);
        $entries[$request->slot()] = ['body' => $body, 'signature' => $signature];
        $value = json_encode(['answers' => $entries], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
        $this->cache->set(self::key($request->dlid), $value);
    }

    /** Drops every cached answer of a key, e.g. after its domains changed. */
    public function forget(string $dlid): void
    {
        $this->cache->delete(self::key(strtolower(trim($dlid))));
    }

    public static function key(string $dlid): string
    {
        return 'answers-' . hash('sha256', $dlid);
    }

    /** @return array<string, mixed> */
    private function entries(string $dlid): array
    {
        $raw = $this->cache->get(self::key($dlid));
        $decoded = $raw === null ? null : json_decode($raw, true);
        return is_array($decoded['answers'] ?? null) ? $decoded['answers'] : [];
    }
}
