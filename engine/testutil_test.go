package engine

import (
	"context"
	"log/slog"
)

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
