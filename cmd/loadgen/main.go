// Command loadgen drives an HTTP endpoint from its own process and reports
// throughput and latency percentiles as JSON. With -rate 0 it runs closed
// loop (as fast as -c workers can go); with -rate N it sends N requests per
// second on a fixed schedule and measures each from its scheduled time, so
// a stalled server cannot hide its latency. With -bodies FILE it sends the
// file's lines (one JSON body each) in turn, e.g. to spread the load over
// many license keys.
//
//	loadgen -url http://127.0.0.1:8080/api/v1/licenses/validate -body '{"dlid":"…"}' -rate 1000 -d 10s
//	loadgen -url … -body '{"dlid":"…","nonce":"n-SEQ"}' -seq SEQ   # a fresh nonce each request
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what loadgen prints.
type Result struct {
	Requests int `json:"requests"`
	// Sent counts the warm-up's requests too: with -bodies, how many of
	// the file's bodies were used (in turn, from the first).
	Sent      int64   `json:"sent"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	Maxms     float64 `json:"max_ms"`
}

func main() {
	target := flag.String("url", "", "URL to POST to")
	body := flag.String("body", "{}", "JSON request body")
	bodiesFile := flag.String("bodies", "", "file of JSON request bodies, one a line, sent in turn (instead of -body)")
	rate := flag.Int("rate", 0, "requests per second (0: as fast as possible)")
	workers := flag.Int("c", 32, "concurrent connections")
	duration := flag.Duration("d", 5*time.Second, "how long to run")
	warmup := flag.Duration("warmup", time.Second, "untimed warm-up")
	sequence := flag.String("seq", "", "placeholder in -body replaced by a number unique to each request (e.g. a nonce)")
	flag.Parse()
	if *target == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -url is required")
		os.Exit(2)
	}
	bodies := []string{*body}
	if *bodiesFile != "" {
		var err error
		if bodies, err = readLines(*bodiesFile); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(2)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers, MaxConnsPerHost: *workers}, Timeout: 10 * time.Second}
	var sent atomic.Int64
	send := func() bool {
		n := sent.Add(1)
		payload := bodies[(n-1)%int64(len(bodies))]
		if *sequence != "" {
			payload = strings.ReplaceAll(payload, *sequence, strconv.FormatInt(n, 10))
		}
		resp, err := client.Post(*target, "application/json", strings.NewReader(payload))
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode < 500
	}
	run(send, *rate, *workers, *warmup) // warm connections and caches
	res := run(send, *rate, *workers, *duration)
	res.Sent = sent.Load()
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

// readLines returns the non-empty lines of a file.
func readLines(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lines []string
	for line := range strings.Lines(string(raw)) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s holds no request bodies", path)
	}
	return lines, nil
}

func run(send func() bool, rate, workers int, d time.Duration) Result {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errors    int
		wg        sync.WaitGroup
	)
	record := func(lat time.Duration, ok bool) {
		mu.Lock()
		latencies = append(latencies, lat)
		if !ok {
			errors++
		}
		mu.Unlock()
	}
	start := time.Now()
	deadline := start.Add(d)
	if rate <= 0 {
		for range workers {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					t := time.Now()
					ok := send()
					record(time.Since(t), ok)
				}
			})
		}
	} else {
		due := make(chan time.Time, workers*4)
		for range workers {
			wg.Go(func() {
				for at := range due {
					ok := send()
					record(time.Since(at), ok)
				}
			})
		}
		interval := time.Second / time.Duration(rate)
		for at := start; at.Before(deadline); at = at.Add(interval) {
			time.Sleep(time.Until(at))
			due <- at
		}
		close(due)
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pick := func(q float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	return Result{Requests: len(latencies), Errors: errors, Seconds: elapsed.Seconds(),
		PerSecond: float64(len(latencies)) / elapsed.Seconds(), P50ms: pick(0.5), P99ms: pick(0.99), Maxms: pick(1)}
}
