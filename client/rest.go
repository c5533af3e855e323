package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"seen/internal/protocol"
)

// Register creates an account through the REST API (POST
// {baseURL}/api/v1/users). It works when the server has open
// registration; otherwise the error is registration_closed.
func Register(ctx context.Context, baseURL, username, password string) error {
	return postJSON(ctx, baseURL, "/api/v1/users", credentials(username, password), http.StatusCreated, nil)
}

// Login exchanges a username and password for an access token (POST
// {baseURL}/api/v1/token), to pass to Dial.
func Login(ctx context.Context, baseURL, username, password string) (string, error) {
	var r struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	err := postJSON(ctx, baseURL, "/api/v1/token", credentials(username, password), http.StatusOK, &r)
	if err != nil {
		return "", err
	}
	if r.AccessToken == "" {
		return "", fmt.Errorf("seen: login: no access_token in the reply")
	}
	return r.AccessToken, nil
}

func credentials(username, password string) map[string]string {
	return map[string]string{"username": username, "password": password}
}

// postJSON posts body to baseURL+path and decodes a reply with status want
// into out. Any other status is returned as the *Error of the body, when
// it has one.
func postJSON(ctx context.Context, baseURL, path string, body any, want int, out any) error {
	url := strings.TrimRight(baseURL, "/") + path
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("seen: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("seen: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("seen: read reply of %s: %w", url, err)
	}
	if resp.StatusCode != want {
		var e struct {
			Error *protocol.Error `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != nil {
			return &Error{Code: e.Error.Code, Name: e.Error.Name, Message: e.Error.Message}
		}
		return fmt.Errorf("seen: POST %s: %s", url, resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("seen: decode reply of %s: %w", url, err)
		}
	}
	return nil
}
