package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"

	"zonevet/engine"
)

// outboundFlags configure the deployment's outbound channels (e-mail over
// SMTP with AUTH, the WeCom and DingTalk group robots) and the workers of
// serve that send the outbox and run the reminder sweep.
type outboundFlags struct {
	smtpHost, smtpFrom, smtpUser, smtpPassword, smtpTo *string
	smtpPort                                           *int
	wecom, dingtalk, events, baseURL                   *string
	sendEvery, sweepEvery                              *time.Duration
}

func addOutboundFlags(fs *flag.FlagSet) *outboundFlags {
	return &outboundFlags{
		smtpHost:     fs.String("smtp-host", os.Getenv("ZONEVET_SMTP_HOST"), "SMTP server for e-mail notifications; empty: no e-mail ($ZONEVET_SMTP_HOST)"),
		smtpPort:     fs.Int("smtp-port", 587, "SMTP port (STARTTLS is used when the server offers it)"),
		smtpFrom:     fs.String("smtp-from", os.Getenv("ZONEVET_SMTP_FROM"), "sender address ($ZONEVET_SMTP_FROM)"),
		smtpUser:     fs.String("smtp-user", os.Getenv("ZONEVET_SMTP_USER"), "SMTP AUTH user; empty: no AUTH ($ZONEVET_SMTP_USER)"),
		smtpPassword: fs.String("smtp-password", os.Getenv("ZONEVET_SMTP_PASSWORD"), "SMTP AUTH password ($ZONEVET_SMTP_PASSWORD; prefer the variable)"),
		smtpTo:       fs.String("smtp-to", os.Getenv("ZONEVET_SMTP_TO"), "comma-separated addresses that receive the notifications, e.g. the office mailbox ($ZONEVET_SMTP_TO)"),
		wecom:        fs.String("wecom-webhook", os.Getenv("ZONEVET_WECOM_WEBHOOK"), "WeCom (企业微信) group robot webhook URL ($ZONEVET_WECOM_WEBHOOK)"),
		dingtalk:     fs.String("dingtalk-webhook", os.Getenv("ZONEVET_DINGTALK_WEBHOOK"), "DingTalk (钉钉) group robot webhook URL ($ZONEVET_DINGTALK_WEBHOOK)"),
		events:       fs.String("notify-events", os.Getenv("ZONEVET_NOTIFY_EVENTS"), "comma-separated events sent outbound (e.g. submit,return,approve,reject,remind,escalate); empty: all that notify someone"),
		baseURL:      fs.String("base-url", os.Getenv("ZONEVET_BASE_URL"), "the address people open, for links in messages ($ZONEVET_BASE_URL)"),
		sendEvery:    fs.Duration("outbox-every", 30*time.Second, "how often serve sends the outbox"),
		sweepEvery:   fs.Duration("remind-every", time.Hour, "how often serve runs the reminder sweep; 0: never (run `zonevet remind sweep` from cron)"),
	}
}

// delivery builds the channels configured: the engine's Outbound (what
// gets queued) and the Delivery (how it is sent).
func (f *outboundFlags) delivery() (engine.Outbound, engine.Delivery, error) {
	d := engine.Delivery{Senders: map[string]engine.Sender{}, BaseURL: strings.TrimRight(*f.baseURL, "/")}
	var o engine.Outbound
	if *f.smtpHost != "" {
		to := splitList(*f.smtpTo)
		if *f.smtpFrom == "" || len(to) == 0 {
			return o, d, fmt.Errorf("--smtp-host needs --smtp-from and --smtp-to")
		}
		d.Senders[engine.ChannelEmail] = &smtpSender{addr: net.JoinHostPort(*f.smtpHost, strconv.Itoa(*f.smtpPort)), host: *f.smtpHost,
			from: *f.smtpFrom, to: to, user: *f.smtpUser, password: *f.smtpPassword}
	}
	if *f.wecom != "" {
		d.Senders[engine.ChannelWeCom] = newRobot(engine.ChannelWeCom, *f.wecom)
	}
	if *f.dingtalk != "" {
		d.Senders[engine.ChannelDingTalk] = newRobot(engine.ChannelDingTalk, *f.dingtalk)
	}
	for _, ch := range []string{engine.ChannelEmail, engine.ChannelWeCom, engine.ChannelDingTalk} {
		if d.Senders[ch] != nil {
			o.Channels = append(o.Channels, ch)
		}
	}
	o.Events = splitList(*f.events)
	return o, d, nil
}

// smtpSender mails a message with net/smtp: plain SMTP with STARTTLS when
// offered and PLAIN AUTH is all a zone's mail relay needs, so no library.
type smtpSender struct {
	addr, host, from, user, password string
	to                               []string
}

func (s *smtpSender) Send(_ context.Context, m engine.Message) error {
	var auth smtp.Auth
	if s.user != "" {
		auth = smtp.PlainAuth("", s.user, s.password, s.host)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nDate: %s\r\n\r\n",
		s.from, strings.Join(s.to, ", "), mime.BEncoding.Encode("UTF-8", m.Subject), time.Now().Format(time.RFC1123Z))
	b.WriteString(m.Text + "\r\n")
	if m.Link != "" {
		b.WriteString(m.Link + "\r\n")
	}
	return smtp.SendMail(s.addr, auth, s.from, s.to, b.Bytes())
}

// robot posts a markdown message to a WeCom or DingTalk group robot, in
// the JSON body each documents; both answer errcode 0 on success.
type robot struct {
	kind, url string
	client    *http.Client
}

func newRobot(kind, url string) *robot {
	return &robot{kind: kind, url: url, client: &http.Client{Timeout: 10 * time.Second}}
}

func (r *robot) Send(ctx context.Context, m engine.Message) error {
	text := "**" + m.Subject + "**\n\n" + m.Text
	if m.Link != "" {
		text += "\n\n[" + m.Link + "](" + m.Link + ")"
	}
	var body any
	switch r.kind {
	case engine.ChannelDingTalk:
		body = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": m.Subject, "text": text}}
	default: // WeCom
		body = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": text}}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s robot: HTTP %d", r.kind, resp.StatusCode)
	}
	var ans struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("%s robot: bad answer: %w", r.kind, err)
	}
	if ans.ErrCode != 0 {
		return fmt.Errorf("%s robot: errcode %d: %s", r.kind, ans.ErrCode, ans.ErrMsg)
	}
	return nil
}

// runNotifyWorkers sends the outbox and runs the reminder sweep
// periodically until ctx ends; failures are logged and tried again.
func runNotifyWorkers(ctx context.Context, svc *engine.Service, d engine.Delivery, sendEvery, sweepEvery time.Duration, logger *slog.Logger) {
	if len(d.Senders) > 0 && sendEvery > 0 {
		go every(ctx, sendEvery, func() {
			if sent, failed, err := svc.DeliverOutbox(ctx, d); err != nil || failed > 0 {
				logger.Warn("outbox", "sent", sent, "failed", failed, "err", err)
			}
		})
	}
	if sweepEvery > 0 {
		go every(ctx, sweepEvery, func() {
			r, err := svc.RemindSweep(ctx)
			if err != nil {
				logger.Error("reminder sweep", "err", err)
				return
			}
			if r.Reminded+r.Escalated > 0 {
				logger.Info("reminder sweep", "reminded", r.Reminded, "escalated", r.Escalated)
			}
		})
	}
}

func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runRemind: `zonevet remind sweep` runs the reminder sweep once (cron).
func runRemind(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "sweep" {
		return fmt.Errorf("usage: zonevet remind sweep [--db FILE]")
	}
	fs, db := newFlags("remind sweep")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	return withApp(ctx, *db, func(a *app) error {
		r, err := a.svc.RemindSweep(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reminded %d, escalated %d\n", r.Reminded, r.Escalated)
		return nil
	})
}
