package testsupport

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// MailServer is a real SMTP server on loopback that keeps what it receives.
type MailServer struct {
	Host string
	Port int

	mu       sync.Mutex
	received []ReceivedMail
	rejected map[string]bool
	// delay is how long the server takes to accept a message.
	delay time.Duration
	// arrived is closed (and replaced) when a message arrives, so waiters
	// wake on arrivals instead of polling.
	arrived chan struct{}
}

// ReceivedMail is one message as the server received it.
type ReceivedMail struct {
	From string
	// SMTPUTF8: the sender asked for it (MAIL FROM … SMTPUTF8).
	SMTPUTF8   bool
	To         []string
	Data       string
	ReceivedAt time.Time
}

// SMTPOption shapes a test mail server.
type SMTPOption func(*smtp.Server)

// OfferSMTPUTF8 makes the server offer SMTPUTF8 (addresses with non-ASCII
// characters, RFC 6531).
func OfferSMTPUTF8(s *smtp.Server) { s.EnableSMTPUTF8 = true }

// StartSMTP starts a mail server for the test's lifetime.
func StartSMTP(t testing.TB, opts ...SMTPOption) *MailServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ms := &MailServer{rejected: map[string]bool{}, arrived: make(chan struct{})}
	ms.Host, ms.Port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{server: ms}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	for _, o := range opts {
		o(srv)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ms
}

// SetDelay makes the server take d to accept each message, as a slow
// server does, so a test can stop a sender in the middle of a send.
func (m *MailServer) SetDelay(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delay = d
}

// Reject makes the server refuse a recipient with 550 (a mailbox that does not exist).
func (m *MailServer) Reject(address string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rejected[strings.ToLower(address)] = true
}

// Messages returns what has been received so far.
func (m *MailServer) Messages() []ReceivedMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]ReceivedMail(nil), m.received...)
}

// WaitFor waits until at least n messages arrived, failing the test after timeout.
func (m *MailServer) WaitFor(t testing.TB, n int, timeout time.Duration) []ReceivedMail {
	t.Helper()
	var got []ReceivedMail
	if !m.await(timeout, func(received []ReceivedMail) bool {
		got = append(got[:0], received...)
		return len(got) >= n
	}) {
		t.Fatalf("SMTP server received %d messages, want %d within %s", len(got), n, timeout)
	}
	return got
}

// await calls done with the messages received so far, again after each
// arrival, until it returns true (then await does) or timeout passes.
func (m *MailServer) await(timeout time.Duration, done func([]ReceivedMail) bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		m.mu.Lock()
		ok, arrived := done(m.received), m.arrived
		m.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-arrived:
		case <-timer.C:
			return false
		}
	}
}

type mailSession struct {
	server *MailServer
	msg    ReceivedMail
}

func (s *mailSession) Reset()        { s.msg = ReceivedMail{} }
func (s *mailSession) Logout() error { return nil }

func (s *mailSession) Mail(from string, opts *smtp.MailOptions) error {
	s.msg.From = from
	s.msg.SMTPUTF8 = opts != nil && opts.UTF8
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.server.mu.Lock()
	rejected := s.server.rejected[strings.ToLower(to)]
	s.server.mu.Unlock()
	if rejected {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.server.mu.Lock()
	delay := s.server.delay
	s.server.mu.Unlock()
	time.Sleep(delay) // the server's own slowness, before it answers 250
	s.msg.Data = string(b)
	s.msg.ReceivedAt = time.Now()
	s.server.mu.Lock()
	s.server.received = append(s.server.received, s.msg)
	close(s.server.arrived)
	s.server.arrived = make(chan struct{})
	s.server.mu.Unlock()
	return nil
}

// WaitForRecipient waits for a message to address whose data contains
// subject and returns when it was received.
func (m *MailServer) WaitForRecipient(t testing.TB, address, subject string, timeout time.Duration) time.Time {
	t.Helper()
	var at time.Time
	// Only messages that arrived since the last look are new.
	seen := 0
	if !m.await(timeout, func(received []ReceivedMail) bool {
		for _, msg := range received[seen:] {
			for _, to := range msg.To {
				if strings.EqualFold(to, address) && strings.Contains(msg.Data, subject) {
					at = msg.ReceivedAt
					return true
				}
			}
		}
		seen = len(received)
		return false
	}) {
		t.Fatalf("no message %q to %s within %s", subject, address, timeout)
	}
	return at
}
