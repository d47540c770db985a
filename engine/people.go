package engine

import "context"

// DisplayNames maps every login to the name people know its holder by
// (王评审 for reviewer1), for pages and exports that show who did what; a
// user without a display name is shown by login.
func (s *Service) DisplayNames(ctx context.Context) (map[string]string, error) {
	users, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(users))
	for _, u := range users {
		if u.DisplayName != "" {
			out[u.Username] = u.DisplayName
		}
	}
	return out, nil
}
