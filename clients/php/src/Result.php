<?php

declare(strict_types=1);

namespace Licenseflow\Client;

/**
 * What the client concluded about a license key. valid and code are
 * separate, as in licenseflow's answers: an expired license in its grace
 * period is valid with code EXPIRED and detail IN_GRACE.
 *
 * Where it came from: the server just now (fromCache false), a cached
 * answer younger than the freshness window (fromCache true, offline
 * false), or - licenseflow unreachable - a cached answer within the offline
 * grace window (fromCache true, offline true). Beyond that window the code
 * is UNREACHABLE: valid is false because nothing vouches for the key, but
 * the key was not found invalid either; a site may keep working and say so.
 */
final class Result
{
    public const UNREACHABLE = 'UNREACHABLE';

    /**
     * @param ?\DateTimeImmutable $checkedAt when licenseflow gave the answer (its signed ts)
     */
    public function __construct(
        public readonly bool $valid,
        public readonly string $code,
        public readonly string $detail,
        public readonly ?License $license,
        public readonly ?\DateTimeImmutable $checkedAt,
        public readonly bool $fromCache = false,
        public readonly bool $offline = false,
        public readonly ?bool $activated = null,
        public readonly ?bool $deactivated = null,
        public readonly int $activationLimit = 0,
        public readonly int $activationUsage = 0,
    ) {
    }

    /**
     * @param array<string, mixed> $answer a verified answer's JSON
     */
    public static function fromAnswer(array $answer, bool $fromCache = false, bool $offline = false): self
    {
        return new self(
            ($answer['valid'] ?? false) === true,
            (string) ($answer['code'] ?? ''),
            (string) ($answer['detail'] ?? ''),
            is_array($answer['license'] ?? null) ? License::fromArray($answer['license']) : null,
            Time::parse($answer['ts'] ?? null),
            $fromCache,
            $offline,
            isset($answer['activated']) ? $answer['activated'] === true : null,
            isset($answer['deactivated']) ? $answer['deactivated'] === true : null,
            (int) ($answer['activation_limit'] ?? 0),
            (int) ($answer['activation_usage'] ?? 0),
        );
    }

    public static function unreachable(string $detail): self
    {
        return new self(false, self::UNREACHABLE, $detail, null, null, false, true);
    }

    public function isUnreachable(): bool
    {
        return $this->code === self::UNREACHABLE;
    }

    public function inGrace(): bool
    {
        return $this->valid && $this->code === 'EXPIRED' && $this->detail === 'IN_GRACE';
    }

    /**
     * A cached answer as it stands at $now: a license that was valid when
     * licenseflow answered may have expired since, and must not stay valid
     * for the rest of a 7-day outage because of an old answer.
     */
    public function asOf(\DateTimeImmutable $now): self
    {
        $license = $this->license;
        if (!$this->valid || $license === null || $license->expiresAt === null || $now < $license->expiresAt) {
            return $this;
        }
        $usable = $license->usableAt($now);
        return new self(
            $usable,
            'EXPIRED',
            $usable ? 'IN_GRACE' : 'the license expired after licenseflow last answered; renew it',
            $license,
            $this->checkedAt,
            $this->fromCache,
            $this->offline,
            $this->activated,
            $this->deactivated,
            $this->activationLimit,
            $this->activationUsage,
        );
    }
}
