home-loading = Der Kurs wird geladen…
join-the-class = Dem Kurs beitreten
home-join-prompt = mit dem Code Ihrer Kursleitung, oder mit Ihrem Fortsetzungscode weitermachen.
home-you = Sie
home-you-are = Sie sind
home-in = in
home-which-starts = , Beginn
home-keep-resume-code = Um in einem anderen Browser oder an einem anderen Tag weiterzumachen, notieren Sie Ihren Fortsetzungscode
home-or-this-link = oder diesen Link:
home-recording-notice = Ihre Terminalsitzungen werden für Ihre Kursleitung aufgezeichnet (nicht, was Sie ohne Echo tippen, etwa ein Passwort).
home-tier-filter = Labs nach Sandbox-Stufe filtern
home-tier = Sandbox-Stufe:
home-tier-all = alle
home-session = Einheit { $n }
home-slides = { $count ->
    [one] 1 Folie
   *[other] { $count } Folien
}
home-homework = Hausaufgabe
home-steps-points = { $steps } Schritte · { $points } Punkte
join-signed-in-as = Sie sind als { $name } angemeldet. Geben Sie den Kurscode ein, den Ihnen Ihre Kursleitung gegeben hat.
join-intro-sign-in = Den Kurscode hat Ihre Kursleitung. Treten Sie mit Ihrem Namen bei oder melden Sie sich mit { $with } an.
join-intro = Den Kurscode hat Ihre Kursleitung. Kein Konto, kein Passwort.
join-recording = Ihre Kursleitung kann Ihre Terminalsitzungen aufzeichnen (Sie sehen das neben Ihrem Terminal).
join-class-code = Kurscode
join-your-name = Ihr Name
sign-in-with = Mit { $with } anmelden
resume-title = Dort weitermachen, wo Sie waren
resume-intro = Schon einmal beigetreten? Ihr Fortsetzungscode bringt Ihren Fortschritt und Ihre Dateien zurück.
resume-code = Fortsetzungscode
resume-continue = Weiter
join-heading = Einem Kurs beitreten oder dort weitermachen, wo Sie waren
lab-loading = Das Lab wird geladen…
lab-not-found = Dieses Lab gibt es nicht.
lab-see-all = Alle Labs ansehen
skip-to = Springen zu
skip-to-instructions = Zur Anleitung springen
skip-to-terminal = Zum Terminal springen
labs = Labs
lab-points = { $done } / { $total } Punkte
steps = Schritte
step-state-done = erledigt
step-state-started = begonnen
step-state-new = nicht begonnen
lab-complete = Lab abgeschlossen
announce-passed = Schritt { $n } bestanden: { $reason }
announce-done = Schritt { $n } erledigt
announce-failed = Schritt { $n } noch nicht erledigt: { $reason }
step-count = Schritt { $n } von { $count } · { $points ->
    [one] 1 Punkt
   *[other] { $points } Punkte
}
check-done = Erledigt
check-done-because = Erledigt — { $reason }
check-manual = Hier gibt es nichts zu prüfen: Markieren Sie den Schritt als erledigt, wenn Sie ihn gemacht haben.
check-not-yet = Noch nicht erledigt — { $reason }
check-as-you-work = Dieser Schritt wird geprüft, während Sie arbeiten.
checking = Wird geprüft…
check-mark-done = Erledigt
check = Prüfen
hint = Hinweis
hint-show = Einen Hinweis zeigen (noch { $left })
solution = Lösung
solution-confirm = Die Lösung zeigen? Ihre Kursleitung sieht, dass Sie nachgesehen haben.
solution-show = Die Lösung zeigen…
step-previous = ← Zurück
step-next = Nächster Schritt →
stuck-here = Hängen Sie fest?
ask-for-help = Um Hilfe bitten
splitter = Größe des Terminals ändern
terminal = Terminal
terminal-tabs = Terminals und Editor
terminal-n = Terminal { $n }
editor = Editor
terminal-open-another = Ein weiteres Terminal öffnen
terminal-recorded-title = Terminalsitzungen werden für Ihre Kursleitung aufgezeichnet. Ohne Echo getippte Passwörter nicht.
terminal-recorded = aufgezeichnet
terminal-keys = Im Terminal vervollständigt Tab: Drücken Sie Escape, dann Tab, um weiterzugehen.
terminal-needs-js = Das Terminal braucht JavaScript.
screen-reader-title = Die Ausgabe des Terminals mit einem Screenreader lesen
screen-reader-mode = Screenreader-Modus
quiz-pick-first = Wählen Sie zuerst eine Antwort.
quiz-multiple = Quiz — alle zutreffenden wählen
quiz = Quiz
quiz-answer-again = Noch einmal antworten
quiz-answer = Antworten
quiz-right = Richtig!
quiz-wrong = Nicht ganz.
quiz-graded = Bewertet: { $points ->
    [one] 1 Punkt
   *[other] { $points } Punkte
} — die erste Antwort zählt.

tier-ready = { $tier ->
    [vm] Ihre VM läuft.
    [cluster] Ihr Cluster läuft.
   *[other] { $tier } läuft.
}
tier-failed = { $tier ->
    [vm] Ihre VM ist nicht gestartet: { $reason }
    [cluster] Ihr Cluster ist nicht gestartet: { $reason }
   *[other] { $tier } ist nicht gestartet: { $reason }
}
tier-no-reason = ohne Angabe eines Grundes
tier-step = : { $n } von { $count }, { $name }
tier-starting = { $tier ->
    [vm] Ihre VM startet{ $step }…
    [cluster] Ihr Cluster startet{ $step }…
   *[other] { $tier } startet{ $step }…
}

ports = Ports
ports-looking = Wird gesucht…
ports-none = In Ihrer Sandbox lauscht noch nichts an einem TCP-Port.
ports-other = Anderer Port
ports-open = Öffnen
ports-share-link = Link zum Teilen für Port { $port }
ports-stop-sharing = Nicht mehr teilen
ports-port = Port { $port }
ports-share-title = Jede Person mit dem Link kann diese Vorschau öffnen, ohne sich anzumelden
ports-share = Teilen
sender-you = Sie
sender-instructor = Ihre Kursleitung
help-instructor-looking = Die Kursleitung sieht sich Ihr Terminal an
help-looking = { $name } sieht sich Ihr Terminal an
help-hand-raised = Hand gehoben
help = Hilfe
close = Schließen
help-intro = Hängen Sie fest? Heben Sie die Hand: Ihre Kursleitung sieht, bei welchem Schritt Sie sind und was seine Prüfung sagt.
help-in-queue = Ihre Hand ist oben: Sie sind in der Warteschlange.
help-note = Wobei hängen Sie fest? (optional)
help-update-note = Notiz ändern
help-raise = Hand heben
help-lower = Hand senken
help-message-label = Nachricht an Ihre Kursleitung
help-write = An Ihre Kursleitung schreiben
send = Senden
spotlight-ask-class = Ihre Kursleitung möchte Ihr Terminal { $tab } dem Kurs zeigen, auf allen Bildschirmen.
spotlight-ask-presenter = Ihre Kursleitung möchte Ihr Terminal { $tab } auf dem Präsentationsbildschirm zeigen.
spotlight-show = Zeigen
spotlight-not-now = Jetzt nicht
spotlight-shown = Ihr Terminal wird dem Kurs gezeigt.
spotlight-stop = Nicht mehr zeigen
spotlight-terminal-of = Terminal von { $name }
spotlight-shown-by-instructor = Terminal von { $name }, gezeigt von Ihrer Kursleitung (nur lesen)
sandbox-stops-in = Ihre Sandbox hält in { $time } an (Ihre Dateien bleiben erhalten).
sandbox-extend = Um { $minutes } min verlängern (noch { $left } min)
help-thread = Ihre Nachrichten mit Ihrer Kursleitung
eyes-on-me-kept = Ihr Terminal und Ihre Arbeit bleiben erhalten; die Seite kommt zurück, wenn Ihre Kursleitung fertig ist.
message-to-class = An den Kurs
message-to-you = { $sender } an Sie
message-dismiss = Nachricht schließen
recordings-yours = Ihre Aufzeichnungen
recordings-none = Noch nichts aufgezeichnet.
recording-terminal = Terminal { $tab }
play = Abspielen
download = Herunterladen
poll-number-needed = Antworten Sie mit einer Zahl.
poll-your-answer = Ihre Antwort
poll-change = Antwort ändern
poll-sent = Antwort gesendet. Sie können sie ändern, bis die Umfrage endet.
poll-right-answer = richtige Antwort
poll-answers-so-far = Bisherige Antworten
poll-total = { $count ->
    [one] 1 Antwort
   *[other] { $count } Antworten
}
poll-from-instructor = Umfrage Ihrer Kursleitung

deck-loading = Die Folien werden geladen…
deck-not-found = Diesen Foliensatz gibt es nicht.
deck-see-all = Alle Foliensätze ansehen
slide-of = Folie { $n } von { $count }
deck-join-for-quiz = Treten Sie dem Kurs bei, um das Quiz dieser Folie zu beantworten.
slide-previous = Vorherige Folie
slide-next = Nächste Folie
deck-follow = Der Folie der Kursleitung folgen
deck-live = Live
deck-go-live = Live folgen
deck-role = Foliensatz
js-connecting = Verbindung wird aufgebaut…
js-reconnecting = Verbindung verloren — neuer Versuch…
js-stopped = Ihre Sandbox wurde angehalten (Ihre Dateien bleiben erhalten).
js-ended = Die Shell wurde beendet.
js-error = Das Terminal ist nicht verfügbar.
js-no-estimate = noch keine Schätzung
js-about-minutes = etwa { $minutes } min
js-queued = Der Kurs ist voll: Sie sind Nummer { $position } in der Warteschlange für eine Sandbox ({ $wait }). Dieses Terminal öffnet sich von selbst, sobald eine frei ist.
js-their-shell-ended = Die Shell der Person wurde beendet (Exit { $code }). Diese Ansicht folgt ihr zur nächsten.
js-shell-ended = Die Shell wurde beendet (Exit { $code }).
js-restart-sandbox = Sandbox neu starten
js-new-shell = Neue Shell
js-copied = Kopiert
js-select-to-copy = Markieren Sie den Text, um ihn zu kopieren
js-play = Abspielen
js-pause = Pause
js-speed = Geschwindigkeit
js-position = Position
js-find-command = Einen Befehl suchen
js-cannot-play = Diese Aufzeichnung lässt sich nicht abspielen: { $reason }
js-files = Dateien
js-pick-file = Wählen Sie links eine Datei.
js-save = Speichern
js-drop-changes = Die nicht gespeicherten Änderungen an { $path } verwerfen?
js-opening = { $path } wird geöffnet…
js-saving = { $path } wird gespeichert…
js-saved = { $path } gespeichert.
js-reload = Aus der Sandbox neu laden
lab-run = Ausführen
lab-run-title = In Ihr Terminal tippen
lab-copy = Kopieren
lab-copy-title = In die Zwischenablage kopieren
lab-run-inline-title = Im Terminal ausführen
lab-copy-inline-title = Kopieren
