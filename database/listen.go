package database

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen relays PostgreSQL NOTIFY payloads on channel to deliver until ctx
// ends, reconnecting after errors. After every (re)connect it calls
// resync, because notices sent while disconnected are lost.
func Listen(ctx context.Context, url, channel string, deliver func(payload string), resync func(), log *slog.Logger) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, channel, deliver, resync)
		if ctx.Err() != nil {
			return
		}
		log.Warn("PostgreSQL change listener disconnected; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func listenOnce(ctx context.Context, url, channel string, deliver func(string), resync func()) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	resync()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		deliver(n.Payload)
	}
}
