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
}

// ReceivedMail is one message as the server received it.
type ReceivedMail struct {
	From       string
	To         []string
	Data       string
	ReceivedAt time.Time
}

// StartSMTP starts a mail server for the test's lifetime.
func StartSMTP(t testing.TB) *MailServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ms := &MailServer{rejected: map[string]bool{}}
	ms.Host, ms.Port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{server: ms}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ms
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
	deadline := time.Now().Add(timeout)
	for {
		got := m.Messages()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMTP server received %d messages, want %d within %s", len(got), n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type mailSession struct {
	server *MailServer
	msg    ReceivedMail
}

func (s *mailSession) Reset()        { s.msg = ReceivedMail{} }
func (s *mailSession) Logout() error { return nil }

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.msg.From = from
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
	s.msg.Data = string(b)
	s.msg.ReceivedAt = time.Now()
	s.server.mu.Lock()
	s.server.received = append(s.server.received, s.msg)
	s.server.mu.Unlock()
	return nil
}

// WaitForRecipient waits for a message to address whose data contains
// subject and returns when it was received.
func (m *MailServer) WaitForRecipient(t testing.TB, address, subject string, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, msg := range m.Messages() {
			for _, to := range msg.To {
				if strings.EqualFold(to, address) && strings.Contains(msg.Data, subject) {
					return msg.ReceivedAt
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message %q to %s within %s", subject, address, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
