package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"zonevet/rules/catalog"
)

// Message is one outbound message as a channel sends it: Chinese first,
// the texts rendered from the catalogue when it is sent.
type Message struct {
	Channel   string
	Subject   string
	Text      string // plain text, one or two lines
	Link      string // the project's page, when the deployment's address is known
	ProjectID int64
}

// Sender delivers a message on one channel (e-mail, a robot webhook). An
// error means "try again later"; the outbox keeps the message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Delivery is how DeliverOutbox retries: the wait before attempt n+1 is
// Backoff × 2ⁿ⁻¹, at most MaxBackoff; after MaxAttempts the message is
// given up (dead) and shown to administrators as failed.
type Delivery struct {
	Senders     map[string]Sender
	BaseURL     string // e.g. https://zonevet.example, for links; empty: none
	Backoff     time.Duration
	MaxBackoff  time.Duration
	MaxAttempts int
}

func (d Delivery) wait(attempts int) time.Duration {
	w := d.Backoff
	if w <= 0 {
		w = 30 * time.Second
	}
	max := d.MaxBackoff
	if max <= 0 {
		max = time.Hour
	}
	for i := 1; i < attempts && w < max; i++ {
		w *= 2
	}
	return min(w, max)
}

// DeliverOutbox sends the outbox's due messages once each, recording each
// attempt; a decision never waits on this (the worker in serve calls it).
// It returns how many were sent and how many failed this time.
func (s *Service) DeliverOutbox(ctx context.Context, d Delivery) (sent, failed int, err error) {
	max := d.MaxAttempts
	if max <= 0 {
		max = 8
	}
	items, err := s.store.DueOutbox(ctx, s.now().UTC(), 50)
	if err != nil {
		return 0, 0, err
	}
	for _, it := range items {
		m, err := s.outboundMessage(ctx, it, d.BaseURL)
		if err == nil {
			snd := d.Senders[it.Channel]
			if snd == nil {
				err = fmt.Errorf("channel %q is not configured", it.Channel)
			} else {
				err = snd.Send(ctx, m)
			}
		}
		now := s.now().UTC()
		if err == nil {
			sent++
			if err := s.store.MarkOutbox(ctx, it.ID, &now, "", now, false); err != nil {
				return sent, failed, err
			}
			continue
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			return sent, failed, ctx.Err()
		}
		failed++
		attempts := it.Attempts + 1
		if err := s.store.MarkOutbox(ctx, it.ID, nil, err.Error(), now.Add(d.wait(attempts)), attempts >= max); err != nil {
			return sent, failed, err
		}
	}
	return sent, failed, nil
}

// outboundMessage renders an outbox item in Chinese, the zone's language.
func (s *Service) outboundMessage(ctx context.Context, it OutboxItem, base string) (Message, error) {
	p, err := s.store.Project(ctx, it.ProjectID)
	if err != nil {
		return Message{}, err
	}
	args := catalog.Args{"Park": s.parkName(it.Park).ZH, "Project": p.Name, "Event": EventLabel(it.Event, "zh"),
		"Kind": NoticeLabel(it.Kind, "zh"), "State": StateLabel(p.State, "zh"), "Actor": s.actorName(ctx, it.Actor)}
	m := Message{Channel: it.Channel, ProjectID: p.ID,
		Subject: catalog.T("zh", "notify.subject", args), Text: catalog.T("zh", "notify.text", args)}
	if base != "" {
		m.Link = fmt.Sprintf("%s/projects/%d", base, p.ID)
	}
	return m, nil
}

// actorName is a login's display name for a message, 系统 for the system.
func (s *Service) actorName(ctx context.Context, login string) string {
	if login == SystemActor {
		return catalog.T("zh", "notify.system", nil)
	}
	if names, err := s.DisplayNames(ctx); err == nil && names[login] != "" {
		return names[login]
	}
	return login
}

// NoticeLabel names a notice kind ("notice.<kind>").
func NoticeLabel(kind, lang string) string { return label("notice", kind, lang) }
