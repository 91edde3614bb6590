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

    /**
     * Whether a signed answer's scope names this question: the SHA-256 of
     * this key, this domain as licenseflow normalizes it, this product.
     */
    public function isScopeOf(mixed $scope): bool
    {
        if (!is_array($scope) || !is_string($scope['key_sha256'] ?? null)
            || !is_string($scope['domain'] ?? null) || !is_string($scope['product'] ?? null)) {
            return false;
        }
        if (!hash_equals(hash('sha256', $this->dlid), $scope['key_sha256'])
            || $scope['product'] !== ($this->product ?? '')) {
            return false;
        }
        if ($this->domain === null) {
            return $scope['domain'] === '';
        }
        $domain = self::normalizedDomain($this->domain);
        // Without PHP's intl extension an internationalized name cannot be
        // converted as licenseflow does; the key, product and nonce still bind.
        return $domain === null ? $scope['domain'] !== '' : $scope['domain'] === $domain;
    }

    /**
     * The domain as licenseflow normalizes it: lower case, no scheme, port,
     * path or "www.", IDN in punycode, IPv4-mapped addresses as IPv4. Null
     * when it cannot be worked out here (IDN without the intl extension).
     */
    public static function normalizedDomain(string $raw): ?string
    {
        $d = strtolower(trim($raw));
        if (filter_var($d, FILTER_VALIDATE_IP) === false) {
            $scheme = strpos($d, '://');
            if ($scheme !== false) {
                $d = substr($d, $scheme + 3);
            }
            $d = preg_split('~[/?#]~', $d)[0];
            $at = strrpos($d, '@');
            if ($at !== false) {
                $d = substr($d, $at + 1);
            }
            if (str_starts_with($d, '[')) {
                $d = substr($d, 1, max(0, (int) strpos($d, ']') - 1));
            } elseif (substr_count($d, ':') === 1) {
                $d = explode(':', $d)[0];
            }
            $d = rtrim($d, '.');
        }
        if (filter_var($d, FILTER_VALIDATE_IP) !== false) {
            $ip = (string) inet_ntop((string) inet_pton($d));
            $mapped = substr($ip, 0, 7) === '::ffff:' ? substr($ip, 7) : null;
            return $mapped !== null && filter_var($mapped, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4) !== false ? $mapped : $ip;
        }
        if (preg_match('/[^\x00-\x7f]/', $d) === 1) {
            if (!function_exists('idn_to_ascii')) {
                return null;
            }
            $ascii = idn_to_ascii($d, IDNA_NONTRANSITIONAL_TO_ASCII, INTL_IDNA_VARIANT_UTS46);
            if ($ascii === false) {
                return null;
            }
            $d = strtolower($ascii);
        }
        while (str_starts_with($d, 'www.') && str_contains(substr($d, 4), '.')) {
            $d = substr($d, 4);
        }
        return $d;
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
