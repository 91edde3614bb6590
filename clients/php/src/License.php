<?php

declare(strict_types=1);

namespace Licenseflow\Client;

/**
 * The license as licenseflow tells a site about it.
 */
final class License
{
    /**
     * @param list<string> $entitlements repositories/extensions the license covers
     * @param list<string> $activeDomains
     */
    public function __construct(
        public readonly string $id,
        public readonly string $tier,
        public readonly string $status,
        public readonly ?\DateTimeImmutable $expiresAt,
        public readonly ?\DateTimeImmutable $graceUntil,
        public readonly array $entitlements,
        public readonly int $maxDomains,
        public readonly array $activeDomains,
    ) {
    }

    /**
     * @param array<string, mixed> $data the "license" object of an answer
     */
    public static function fromArray(array $data): self
    {
        return new self(
            (string) ($data['id'] ?? ''),
            (string) ($data['tier'] ?? ''),
            (string) ($data['status'] ?? ''),
            Time::parse($data['expires_at'] ?? null),
            Time::parse($data['grace_until'] ?? null),
            array_values(array_map('strval', (array) ($data['entitlements'] ?? []))),
            (int) ($data['max_domains'] ?? 0),
            array_values(array_map('strval', (array) ($data['active_domains'] ?? []))),
        );
    }

    public function isLifetime(): bool
    {
        return $this->expiresAt === null;
    }

    public function usableAt(\DateTimeInterface $at): bool
    {
        return Time::usable($this->expiresAt, $this->graceUntil, $at);
    }

    /** Whether the license covers an extension (its repository name, e.g. MokoSuitePOS). */
    public function entitles(string $repository): bool
    {
        foreach ($this->entitlements as $entitlement) {
            if (strcasecmp($entitlement, $repository) === 0) {
                return true;
            }
        }
        return false;
    }
}
