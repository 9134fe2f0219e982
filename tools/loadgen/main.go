// loadgen drives the decision API benchmark (bench/authz_bench.py): a closed-loop load of
// POSTs over C keep-alive connections, each answer checked against the expected result.
// Written in Go so that, on a 2-core machine, the client costs the server little CPU.
//
// Input: a JSON-lines file, one call per line: {"body": {...}, "allow": true|false}.
// Output (stdout, JSON): {"latencies_ns": [...], "wrong": N, "wall_ns": N}.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

type call struct {
	Body  json.RawMessage `json:"body"`
	Allow bool            `json:"allow"`
}

type answer struct {
	Result *bool `json:"result"`
}

type report struct {
	LatenciesNs []int64 `json:"latencies_ns"`
	Wrong       int     `json:"wrong"`
	WallNs      int64   `json:"wall_ns"`
}

func readCalls(path string) ([]call, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var calls []call
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		var c call
		if err := json.Unmarshal(scanner.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		calls = append(calls, c)
	}
	return calls, scanner.Err()
}

// worker sends its share of the calls one after another on its own connection.
func worker(client *http.Client, url string, token string, calls []call, deadline time.Time) ([]int64, int) {
	latencies := make([]int64, 0, len(calls))
	wrong := 0
	for _, c := range calls {
		if time.Now().After(deadline) {
			break
		}
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(c.Body))
		if err != nil {
			wrong++
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		started := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			latencies = append(latencies, time.Since(started).Nanoseconds())
			wrong++
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		latencies = append(latencies, time.Since(started).Nanoseconds())
		var a answer
		if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(body, &a) != nil ||
			a.Result == nil || *a.Result != c.Allow {
			wrong++
		}
	}
	return latencies, wrong
}

func main() {
	url := flag.String("url", "", "the decision URL to POST to")
	workPath := flag.String("work", "", "JSON-lines file of calls")
	connections := flag.Int("c", 8, "keep-alive connections")
	maxSeconds := flag.Float64("max-seconds", 120, "stop sending after this long")
	token := flag.String("token", "", "bearer token, if the server wants one")
	flag.Parse()
	calls, err := readCalls(*workPath)
	if err != nil || *url == "" || *connections < 1 {
		fmt.Fprintln(os.Stderr, "loadgen: need -url, -work FILE and -c >= 1:", err)
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        *connections,
		MaxIdleConnsPerHost: *connections,
		MaxConnsPerHost:     *connections,
		DisableCompression:  true,
	}, Timeout: 30 * time.Second}

	deadline := time.Now().Add(time.Duration(*maxSeconds * float64(time.Second)))
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := report{}
	started := time.Now()
	for i := 0; i < *connections; i++ {
		var share []call
		for j := i; j < len(calls); j += *connections {
			share = append(share, calls[j])
		}
		wg.Add(1)
		go func(share []call) {
			defer wg.Done()
			latencies, wrong := worker(client, *url, *token, share, deadline)
			mu.Lock()
			out.LatenciesNs = append(out.LatenciesNs, latencies...)
			out.Wrong += wrong
			mu.Unlock()
		}(share)
	}
	wg.Wait()
	out.WallNs = time.Since(started).Nanoseconds()
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
