<?php

declare(strict_types=1);

namespace Licenseflow\Client\Exception;

/**
 * Licenseflow could not answer: no connection, a timeout, a 5xx (licenseflow
 * answers 503 during an outage rather than calling a good key invalid) or a
 * rate limit. It says nothing about the license itself.
 */
final class UnreachableException extends LicenseflowException
{
}
