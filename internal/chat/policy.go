package chat

import "context"

// Receipt policy of a group: who may ask for receipts, who may see them,
// and whether the lists of readers and non-readers are shown or only the
// counts. A group's stored policy may leave a field to the server's
// default (Config.GroupAckSenders, ReceiptVisibility, ReceiptLists);
// Group.Policy is always the effective one.
const (
	RequestAdmins = "admins" // the owner and admins may ask for receipts
	RequestAll    = "all"    // any member may

	VisibleSender  = "sender"  // only the sender sees counts and lists
	VisibleAdmins  = "admins"  // the sender, the owner and admins
	VisibleMembers = "members" // every member: a notice board
)

// ReceiptPolicy is a group's effective receipt policy.
type ReceiptPolicy struct {
	Request    string // RequestAdmins or RequestAll
	Visibility string // VisibleSender, VisibleAdmins or VisibleMembers
	Lists      bool   // reader and unread lists shown; false: counts only
}

// PolicyUpdate changes the fields it sets of a group's receipt policy.
type PolicyUpdate struct {
	Request    *string
	Visibility *string
	Lists      *bool
}

// effectivePolicy is a group's own policy with the server's defaults
// (cfg.GroupAckSenders, ReceiptVisibility, ReceiptLists) where it sets
// nothing.
func effectivePolicy(cfg Config, own PolicyUpdate) ReceiptPolicy {
	p := ReceiptPolicy{Request: cfg.GroupAckSenders, Visibility: cfg.ReceiptVisibility, Lists: cfg.ReceiptLists}
	if own.Request != nil {
		p.Request = *own.Request
	}
	if own.Visibility != nil {
		p.Visibility = *own.Visibility
	}
	if own.Lists != nil {
		p.Lists = *own.Lists
	}
	return p
}

// withPolicy fills gs' effective policies.
func (s *Service) withPolicy(gs []Group) {
	for i := range gs {
		gs[i].Policy = effectivePolicy(s.cfg, gs[i].OwnPolicy)
	}
}

// checkRequest and checkVisibility validate policy values.
func checkRequest(v string) error {
	if v != RequestAdmins && v != RequestAll {
		return Errorf(CodeBadRequest, "receipt request %q is not %s or %s", v, RequestAdmins, RequestAll)
	}
	return nil
}

func checkVisibility(v string) error {
	if v != VisibleSender && v != VisibleAdmins && v != VisibleMembers {
		return Errorf(CodeBadRequest, "receipt visibility %q is not %s, %s or %s", v, VisibleSender, VisibleAdmins, VisibleMembers)
	}
	return nil
}

// ReceiptPolicy returns the effective receipt policy of group g, to any
// member (and the administrator).
func (s *Service) ReceiptPolicy(ctx context.Context, actor Actor, g GroupID) (ReceiptPolicy, error) {
	var p ReceiptPolicy
	err := s.read(ctx, "receipt_policy", func(tx Tx) error {
		gr, err := loadGroup(ctx, tx, g)
		if err != nil {
			return err
		}
		role, err := actorRole(ctx, tx, g, actor)
		if err != nil {
			return err
		}
		if role == "" {
			return Errorf(CodeNotMember, "you are not a member of group %s", g)
		}
		p = effectivePolicy(s.cfg, gr.OwnPolicy)
		return nil
	})
	return p, internal("receipt policy", err)
}

// SetReceiptPolicy changes group g's receipt policy; only the owner and
// admins (and the administrator) may. It returns the effective policy, and
// tells the group's members (a GroupOpInfoUpdated group event).
func (s *Service) SetReceiptPolicy(ctx context.Context, actor Actor, g GroupID, u PolicyUpdate) (ReceiptPolicy, error) {
	if u.Request == nil && u.Visibility == nil && u.Lists == nil {
		return ReceiptPolicy{}, Errorf(CodeBadRequest, "set at least one of request, visibility and lists")
	}
	if u.Request != nil {
		if err := checkRequest(*u.Request); err != nil {
			return ReceiptPolicy{}, err
		}
	}
	if u.Visibility != nil {
		if err := checkVisibility(*u.Visibility); err != nil {
			return ReceiptPolicy{}, err
		}
	}
	var p ReceiptPolicy
	var name string
	err := s.write(ctx, "set_receipt_policy", func(tx Tx) error {
		gr, _, err := manage(ctx, tx, g, actor, func(r Role) error {
			if !canManage(r) {
				return Errorf(CodePermissionDenied, "only the group owner and admins may change the receipt policy")
			}
			return nil
		})
		if err != nil {
			return err
		}
		own := gr.OwnPolicy
		if u.Request != nil {
			own.Request = u.Request
		}
		if u.Visibility != nil {
			own.Visibility = u.Visibility
		}
		if u.Lists != nil {
			own.Lists = u.Lists
		}
		if err := tx.SetGroupPolicy(ctx, g, own); err != nil {
			return err
		}
		p, name = effectivePolicy(s.cfg, own), gr.Name
		return nil
	})
	if err != nil {
		return ReceiptPolicy{}, internal("set receipt policy", err)
	}
	// The policy is part of the group's info: members' clients refresh it.
	s.publishGroup(g, GroupOpInfoUpdated, actor, name, nil)
	return p, nil
}

// Settings are a user's own preferences.
type Settings struct {
	// SendReadReceipts: false means the user's reads are not recorded as
	// receipts (see docs/receipts.md, "Privacy", for every consequence).
	SendReadReceipts bool
}

// SettingsUpdate changes the fields it sets.
type SettingsUpdate struct {
	SendReadReceipts *bool
}

// settingsUser loads the actor's user; the administrator has none.
func settingsUser(ctx context.Context, tx Tx, actor Actor) (User, error) {
	if actor.User == 0 {
		return User{}, Errorf(CodeBadRequest, "the administrator has no settings")
	}
	us, err := tx.UsersByID(ctx, []UserID{actor.User})
	if err != nil {
		return User{}, err
	}
	if len(us) == 0 {
		return User{}, Errorf(CodeUserNotFound, "no user %s", actor.User)
	}
	return us[0], nil
}

// Settings returns the actor's settings.
func (s *Service) Settings(ctx context.Context, actor Actor) (Settings, error) {
	var out Settings
	err := s.read(ctx, "settings", func(tx Tx) error {
		u, err := settingsUser(ctx, tx, actor)
		out = Settings{SendReadReceipts: !u.ReceiptsOff}
		return err
	})
	return out, internal("settings", err)
}

// SetSettings changes the actor's settings and returns them.
func (s *Service) SetSettings(ctx context.Context, actor Actor, u SettingsUpdate) (Settings, error) {
	if u.SendReadReceipts == nil {
		return Settings{}, Errorf(CodeBadRequest, "set at least one setting")
	}
	var out Settings
	err := s.write(ctx, "set_settings", func(tx Tx) error {
		cur, err := settingsUser(ctx, tx, actor)
		if err != nil {
			return err
		}
		off := !*u.SendReadReceipts
		if cur.ReceiptsOff && !off {
			// On again: only messages sent from now on are the user's to
			// count (eligibleReader), as after a join. The locks of the
			// user's groups (LockGroupsOf: of a group being joined too)
			// order this write with every receipt-requesting send to them
			// (which counts Eligible holding its group's share lock,
			// countEligible): whichever commits first decides, and the
			// head is read after it. The user is read again under the
			// user's lock: another "on" (a second device, a retried
			// request) may have committed while this one waited, and then
			// this one changes nothing, as it must (a message sent in
			// between counted the user in its Eligible).
			if err := tx.LockGroupsOf(ctx, cur.ID); err != nil {
				return err
			}
			if cur, err = settingsUser(ctx, tx, actor); err != nil {
				return err
			}
		}
		since := cur.ReceiptsSince
		if cur.ReceiptsOff && !off {
			if since, err = tx.HeadSeq(ctx, SeqMessages); err != nil {
				return err
			}
		}
		if err := tx.SetReceiptsOff(ctx, cur.ID, off, since); err != nil {
			return err
		}
		out = Settings{SendReadReceipts: *u.SendReadReceipts}
		return nil
	})
	return out, internal("set settings", err)
}
