<?php

declare(strict_types=1);

namespace Licenseflow\Client;

use Licenseflow\Client\Exception\SignatureException;
use Licenseflow\Client\Exception\UnreachableException;

/**
 * Turns a signed body into an answer that may be believed.
 *
 * @internal
 */
final class Answer
{
    /**
     * A live answer must echo this request's own nonce (an older signed
     * answer replayed on the wire does not); a cached one must carry a
     * nonce made for the same question. Either way its scope must name this
     * request's key, domain and product: a relay that forwards the site's
     * nonce with another key gets an answer that says so.
     *
     * @return array<string, mixed>
     * @throws SignatureException the signature does not verify, or the answer is not to this question
     * @throws UnreachableException a key had to be fetched and could not be
     */
    public static function verified(
        string $body,
        ?string $signature,
        SiteRequest $request,
        KeyRing $keys,
        bool $live,
    ): array {
        $keys->verifyAnswer($body, $signature);
        $answer = json_decode($body, true);
        if (!is_array($answer)) {
            throw new SignatureException('the signed answer is not JSON');
        }
        $nonce = $answer['nonce'] ?? null;
        if (!is_string($nonce) || ($live ? !hash_equals($request->nonce, $nonce) : !$request->madeThe($nonce))) {
            throw new SignatureException(
                'the signed answer does not echo the nonce of this request: it answers another question'
            );
        }
        if (!$request->isScopeOf($answer['scope'] ?? null)) {
            throw new SignatureException(
                'the signed answer is about another key, domain or product than this request (its scope differs)'
            );
        }
        return $answer;
    }
}
