<?php

declare(strict_types=1);

namespace Licenseflow\Client;

/**
 * One question a site asks about its key, with the nonce licenseflow must
 * echo in its signed answer.
 *
 * The nonce is random and commits to the question: "<random>.<hash of
 * random, key, domain, product>". Whoever reads a cached answer can
 * recompute the commitment, so a signed answer given for one key, domain or
 * product cannot be passed off as the answer to another, neither on the
 * wire nor by copying cache files.
 *
 * @internal
 */
final class SiteRequest
{
    public readonly string $dlid;
    public readonly string $nonce;

    public function __construct(
        string $dlid,
        public readonly ?string $domain = null,
        public readonly ?string $product = null,
    ) {
        // licenseflow compares keys lower-cased and trimmed; do the same so
        // the cache and the nonce agree with the server.
        $this->dlid = strtolower(trim($dlid));
        $random = Base64Url::encode(random_bytes(12));
        $this->nonce = $random . '.' . $this->commitment($random);
    }

    /** Whether a nonce from a signed answer was made for this question. */
    public function madeThe(string $nonce): bool
    {
        $parts = explode('.', $nonce);
        return count($parts) === 2 && hash_equals($this->commitment($parts[0]), $parts[1]);
    }

    /** Which cached answer of the key answers this question. */
    public function slot(): string
    {
        return hash('sha256', ($this->domain ?? '') . "\n" . ($this->product ?? ''));
    }

    public function json(): string
    {
        $body = ['dlid' => $this->dlid, 'nonce' => $this->nonce];
        if ($this->domain !== null) {
            $body['domain'] = $this->domain;
        }
        if ($this->product !== null) {
            $body['product'] = $this->product;
        }
        return json_encode($body, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
    }

    private function commitment(string $random): string
    {
        $question = implode("\n", [
            'licenseflow-nonce-v1',
            $random,
            $this->dlid,
            $this->domain ?? '',
            $this->product ?? '',
        ]);
        return Base64Url::encode(substr(hash('sha256', $question, true), 0, 16));
    }
}
