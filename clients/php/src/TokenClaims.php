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
        );
    }

    public function usableAt(\DateTimeInterface $at): bool
    {
        return Time::usable($this->expiresAt, $this->graceUntil, $at);
    }
}
