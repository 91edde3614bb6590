<?php

declare(strict_types=1);

namespace Licenseflow\Client;

/**
 * What a verified offline license token asserts.
 */
final class TokenClaims
{
    /**
     * @param list<string> $entitlements
     */
    public function __construct(
        public readonly string $dlid,
        public readonly string $tier,
        public readonly array $entitlements,
        public readonly ?\DateTimeImmutable $expiresAt,
        public readonly ?\DateTimeImmutable $graceUntil,
        public readonly int $maxDomains,
        public readonly ?\DateTimeImmutable $issuedAt,
        public readonly string $keyId,
        public readonly ?\DateTimeImmutable $validUntil = null,
    ) {
    }

    /**
     * @param array<string, mixed> $data the token's JSON payload
     */
    public static function fromArray(array $data): self
    {
        return new self(
            (string) ($data['dlid'] ?? ''),
            (string) ($data['tier'] ?? ''),
            array_values(array_map('strval', (array) ($data['entitlements'] ?? []))),
            Time::parse($data['expires_at'] ?? null),
            Time::parse($data['grace_until'] ?? null),
            (int) ($data['max_domains'] ?? 0),
            Time::parse($data['issued_at'] ?? null),
            (string) ($data['kid'] ?? ''),
            Time::parse($data['valid_until'] ?? null),
        );
    }

    /**
     * Before the token's own valid_until (a token without one, from before
     * tokens expired, is never usable: it would outlive any revocation) and
     * while the license itself is usable.
     */
    public function usableAt(\DateTimeInterface $at): bool
    {
        if ($this->validUntil === null || $at >= $this->validUntil) {
            return false;
        }
        return Time::usable($this->expiresAt, $this->graceUntil, $at);
    }
}
