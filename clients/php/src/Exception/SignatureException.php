<?php

declare(strict_types=1);

namespace Licenseflow\Client\Exception;

/**
 * An answer or token whose Ed25519 signature does not verify, is missing,
 * names an unknown key, or does not echo the request's nonce. It means the
 * answer did not come from licenseflow unchanged: never treat it as valid.
 */
final class SignatureException extends LicenseflowException
{
}
