<?php

declare(strict_types=1);

// With Composer (composer install) its autoloader is used; Debian's phpunit
// runs without one, so map the two PSR-4 prefixes here.
if (is_file(__DIR__ . '/../vendor/autoload.php')) {
    require __DIR__ . '/../vendor/autoload.php';
} else {
    spl_autoload_register(static function (string $class): void {
        $prefixes = ['Licenseflow\\Client\\Tests\\' => __DIR__ . '/', 'Licenseflow\\Client\\' => __DIR__ . '/../src/'];
        foreach ($prefixes as $prefix => $dir) {
            if (str_starts_with($class, $prefix)) {
                $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require $file;
                }
                return;
            }
        }
    });
}

if (getenv('LICENSEFLOW_URL') === false) {
    fwrite(STDERR, "These tests need a running licenseflow: run `go test ./integration -run TestPHPClient`.\n");
    exit(1);
}
