// Package email renders licenseflow's customer emails from embedded
// templates (HTML + plain text) and hands them to an SMTP server.
package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	mail "github.com/wneessen/go-mail"
)

// Message is a rendered email ready to send.
type Message struct {
	// ID becomes the Message-ID header; derived from the outbox idempotency
	// key, so a resend after a crash carries the same id and mail systems can
	// drop the duplicate.
	ID          string
	To          string
	Subject     string
	Text        string
	HTML        string
	Attachments []Attachment
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrRejected marks a permanent refusal (a 5xx answer such as an unknown
// mailbox): retrying will not help.
var ErrRejected = errors.New("rejected by the mail server")

// MessageID derives a stable Message-ID from an idempotency key.
func MessageID(key, fromAddress string) string {
	sum := sha256.Sum256([]byte(key))
	domain := "licenseflow.local"
	if at := strings.LastIndexByte(fromAddress, '@'); at >= 0 && at < len(fromAddress)-1 {
		domain = strings.TrimSuffix(fromAddress[at+1:], ">")
	}
	return hex.EncodeToString(sum[:16]) + "@" + domain
}

// TLSMode says how to secure the SMTP connection.
type TLSMode string

const (
	TLSNone     TLSMode = "none"     // plain text (local mail catchers)
	TLSStartTLS TLSMode = "starttls" // upgrade with STARTTLS, required
	TLSImplicit TLSMode = "tls"      // TLS from the first byte (port 465)
)

// SMTPConfig configures the SMTP sender.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	TLS      TLSMode
	Timeout  time.Duration
}

// SMTPSender sends through an SMTP server.
type SMTPSender struct {
	cfg SMTPConfig
}

// NewSMTPSender checks the configuration and returns a sender.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.Host == "" {
		return nil, errors.New("SMTP host is empty")
	}
	if cfg.From == "" {
		return nil, errors.New("SMTP from address is empty")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	switch cfg.TLS {
	case "", TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return nil, fmt.Errorf("SMTP TLS mode %q must be none, starttls or tls", cfg.TLS)
	}
	return &SMTPSender{cfg: cfg}, nil
}

// From is the configured sender address.
func (s *SMTPSender) From() string { return s.cfg.From }

// Send delivers m. A permanent refusal wraps ErrRejected.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("from address %q: %w", s.cfg.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("%w: recipient %q: %v", ErrRejected, m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID)
	msg.SetDate()
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		opts := []mail.FileOption{}
		if a.ContentType != "" {
			opts = append(opts, mail.WithFileContentType(mail.ContentType(a.ContentType)))
		}
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), opts...)
	}
	client, err := mail.NewClient(s.cfg.Host, s.clientOptions()...)
	if err != nil {
		return fmt.Errorf("SMTP client: %w", err)
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = client.CloseWithSMTPClient(conn) }()
	// An address with non-ASCII characters before the @ can only travel
	// as such over SMTPUTF8 (RFC 6531); a server that does not offer it
	// would mangle or bounce it, so it is refused here, where the outbox
	// shows why.
	if needsSMTPUTF8(m.To) || needsSMTPUTF8(s.cfg.From) {
		if ok, _ := conn.Extension("SMTPUTF8"); !ok {
			return fmt.Errorf("%w: the address %q has non-ASCII characters, which the SMTP server %s does not accept (it does not offer SMTPUTF8)", ErrRejected, m.To, s.cfg.Host)
		}
	}
	err = client.SendWithSMTPClient(conn, msg)
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) && !sendErr.IsTemp() && sendErr.ErrorCode() >= 500 {
		return fmt.Errorf("%w: %v", ErrRejected, err)
	}
	return err
}

func (s *SMTPSender) clientOptions() []mail.Option {
	opts := []mail.Option{mail.WithTimeout(s.cfg.Timeout)}
	if s.cfg.Port != 0 {
		opts = append(opts, mail.WithPort(s.cfg.Port))
	}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if s.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(s.cfg.Username), mail.WithPassword(s.cfg.Password))
	}
	return opts
}

// needsSMTPUTF8 reports whether an address has non-ASCII characters.
func needsSMTPUTF8(address string) bool {
	for _, r := range address {
		if r >= utf8.RuneSelf {
			return true
		}
	}
	return false
}
