package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
)

// smtpReceiver is a minimal SMTP server on loopback: EHLO, AUTH PLAIN,
// MAIL, RCPT, DATA, QUIT; it keeps each message's data and AUTH line.
type smtpReceiver struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
	auth []string
}

func startSMTP(t *testing.T) *smtpReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &smtpReceiver{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *smtpReceiver) serve(c net.Conn) {
	defer c.Close()
	in := bufio.NewReader(c)
	say := func(s string) { c.Write([]byte(s + "\r\n")) }
	say("220 test ESMTP")
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-test")
			say("250 AUTH PLAIN")
		case strings.HasPrefix(cmd, "AUTH PLAIN"):
			r.mu.Lock()
			r.auth = append(r.auth, strings.TrimSpace(line[len("AUTH PLAIN"):]))
			r.mu.Unlock()
			say("235 ok")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"), strings.HasPrefix(cmd, "RSET"), strings.HasPrefix(cmd, "NOOP"):
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := in.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			r.mu.Lock()
			r.msgs = append(r.msgs, b.String())
			r.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

// TestOutboundChannels: a submit with e-mail, WeCom and DingTalk configured
// queues three messages in its transaction; the worker's DeliverOutbox mails
// one through a real SMTP exchange with AUTH, posts the robots' documented
// JSON, and retries the DingTalk robot that failed the first time until it
// gets it: nothing lost, nothing sent twice.
func TestOutboundChannels(t *testing.T) {
	ctx := context.Background()
	mail := startSMTP(t)
	var mu sync.Mutex
	bodies := map[string][]map[string]any{}
	dingFails := 1
	robotSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		kind := strings.TrimPrefix(r.URL.Path, "/")
		if kind == "dingtalk" && dingFails > 0 {
			dingFails--
			http.Error(w, "busy", http.StatusBadGateway)
			return
		}
		var b map[string]any
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Errorf("robot body: %v", err)
		}
		bodies[kind] = append(bodies[kind], b)
		w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
	}))
	defer robotSrv.Close()

	host, port, _ := net.SplitHostPort(mail.ln.Addr().String())
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	f := addOutboundFlags(fs)
	err := fs.Parse([]string{"--smtp-host", host, "--smtp-port", port, "--smtp-from", "zonevet@zone.example",
		"--smtp-to", "office@zone.example", "--smtp-user", "zv", "--smtp-password", "pw",
		"--wecom-webhook", robotSrv.URL + "/wecom", "--dingtalk-webhook", robotSrv.URL + "/dingtalk",
		"--notify-events", "submit", "--base-url", "https://zonevet.example/"})
	if err != nil {
		t.Fatal(err)
	}
	ob, d, err := f.delivery()
	if err != nil {
		t.Fatal(err)
	}
	d.Backoff = time.Millisecond
	now := time.Now()
	clock := func() time.Time { return now }
	db, err := store.Open(filepath.Join(t.TempDir(), "z.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := &app{db: db}
	if a.svc, err = engine.NewService(ctx, engine.Config{Store: db, Now: clock, Outbound: ob}); err != nil {
		t.Fatal(err)
	}
	if err := a.installDefaultParks(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := a.svc.CreateUser(ctx, "li", "李招商", "password-li-long", []engine.RoleAssignment{{Role: engine.RolePromoter, Park: "qingyuan"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.svc.CreateProject(ctx, u, engine.ProjectInput{Park: "qingyuan", Name: "广清精密模具制造项目", InvestorName: "广东精工模具科技有限公司",
		USCC: uscc("91441800MA4UP7K2"), Figures: figures("C3525", 40, 320, 850, 32, 3.2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Act(ctx, u, p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version}); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		if _, _, err := a.svc.DeliverOutbox(ctx, d); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second) // past the backoff
	}
	mail.mu.Lock()
	if len(mail.msgs) != 1 || !strings.Contains(mail.msgs[0], "https://zonevet.example/projects/") || !strings.Contains(mail.msgs[0], "Subject: =?UTF-8?b?") {
		t.Fatalf("mails = %q", mail.msgs)
	}
	plain, _ := base64.StdEncoding.DecodeString(mail.auth[0])
	if string(plain) != "\x00zv\x00pw" {
		t.Fatalf("AUTH PLAIN = %q", plain)
	}
	mail.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if len(bodies["wecom"]) != 1 || len(bodies["dingtalk"]) != 1 || dingFails != 0 {
		t.Fatalf("robots got %v", bodies)
	}
	wc := bodies["wecom"][0]["markdown"].(map[string]any)["content"].(string)
	dt := bodies["dingtalk"][0]["markdown"].(map[string]any)
	if bodies["wecom"][0]["msgtype"] != "markdown" || !strings.Contains(wc, "广清精密模具制造项目") || dt["title"] == "" || !strings.Contains(dt["text"].(string), "提交") {
		t.Fatalf("robot bodies = %v", bodies)
	}
	items, err := db.OutboxItems(ctx, 10)
	if err != nil || len(items) != 3 {
		t.Fatalf("outbox = %v, %v", items, err)
	}
	for _, it := range items {
		if it.SentAt == nil || it.Dead {
			t.Errorf("%s not sent: %+v", it.Channel, it)
		}
	}
}
