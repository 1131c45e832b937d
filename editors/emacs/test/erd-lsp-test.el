;;; erd-lsp-test.el --- headless Emacs + Eglot test of erd-lsp  -*- lexical-binding: t; -*-

;; Usage (what tests/e2e/test_emacs.py runs):
;;   ERD_PY=/path/to/python ERD_WORK=/tmp/dir \
;;     emacs --batch -Q -l editors/emacs/erd-lsp.el -l editors/emacs/test/erd-lsp-test.el
;; ERD_WORK must hold state.md (a copy of tests/data/seeds/003_1a83fdde10ac1a71.txt) and
;; shop.mmd (a copy of editors/emacs/test/shop.mmd).
;; Prints one line per check ("ok: ..." or "FAIL: ...") and exits 0 if all passed, else 1
;; (77 when Eglot is not installed).
;; Every check runs even when an earlier one failed, so the output says which parts work.

;;; Code:

(require 'cl-lib)
(require 'subr-x)

;; With -Q nothing activates the packages Debian installs (elpa-eglot lives in
;; /usr/share/emacs/site-lisp/elpa): activate them the way a normal start-up does.
(require 'package)
(setq package-directory-list
      (cl-remove-if-not #'file-directory-p '("/usr/share/emacs/site-lisp/elpa")))
(setq package-user-dir (expand-file-name "elpa" (or (getenv "ERD_WORK") temporary-file-directory)))
(package-initialize)

(defvar erd-test-failures 0)
(defvar erd-test-work (file-name-as-directory (or (getenv "ERD_WORK") (error "ERD_WORK not set"))))
(defvar erd-test-timeout 30)

(defvar erd-test-start (float-time))

(defun erd-test-log (fmt &rest args)
  (princ (format "%s  [%.1fs]\n" (apply #'format fmt args) (- (float-time) erd-test-start))))

(defun erd-test-check (ok what &rest args)
  (let ((msg (apply #'format what args)))
    (if ok
        (erd-test-log "ok: %s" msg)
      (cl-incf erd-test-failures)
      (erd-test-log "FAIL: %s" msg))
    ok))

(defmacro erd-test-step (name &rest body)
  "Run BODY; an error counts as a failed check NAME and does not stop the run."
  (declare (indent 1))
  `(condition-case err
       (progn ,@body)
     (error (cl-incf erd-test-failures)
            (erd-test-log "FAIL: %s: %s" ,name (error-message-string err))
            nil)))

(defun erd-test-wait (pred &optional secs)
  (let ((deadline (+ (float-time) (or secs erd-test-timeout))))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (funcall pred)))

(defun erd-test-goto (line col)
  "Go to 1-based LINE, 0-based character COL."
  (goto-char (point-min))
  (forward-line (1- line))
  (forward-char col))

(defun erd-test-diags ()
  "Flymake's diagnostics in this buffer as (LINE CHAR CODE TEXT), sorted."
  (sort (mapcar (lambda (d)
                  (let ((beg (flymake-diagnostic-beg d)))
                    (list (line-number-at-pos beg)
                          (save-excursion (goto-char beg) (- beg (line-beginning-position)))
                          (and (string-match "\\[\\([EW][0-9]+\\)\\]" (flymake-diagnostic-text d))
                               (match-string 1 (flymake-diagnostic-text d)))
                          (flymake-diagnostic-text d))))
                (flymake-diagnostics))
        (lambda (a b) (< (car a) (car b)))))

(defun erd-test-flush ()
  "Send pending didChange now (Eglot normally waits for an idle timer)."
  (when (fboundp 'eglot--signal-textDocument/didChange)
    (eglot--signal-textDocument/didChange)))

(defun erd-test-sync ()
  "Send pending changes, then make one round trip.
The server handles messages in order and publishes diagnostics while it handles
didChange, so after the reply Flymake has them."
  (erd-test-flush)
  (ignore-errors
    (jsonrpc-request (eglot-current-server) :textDocument/documentSymbol
                     `(:textDocument ,(eglot--TextDocumentIdentifier)))))

(defun erd-test-open (file)
  "Visit FILE the normal way and start Eglot as the mode hooks asked."
  (find-file (expand-file-name file erd-test-work))
  (erd-test-log "%s: %s" file major-mode)
  ;; `eglot-ensure' (run by the mode hook) connects from `post-command-hook', which
  ;; never runs in batch: run it as the command loop would.
  (run-hooks 'post-command-hook)
  (let ((server (and (erd-test-wait (lambda () (eglot-current-server)))
                     (eglot-current-server))))
    (erd-test-check server "Eglot connected to erd-lsp for %s" file)
    server))

(defun erd-test-labels (completion)
  (mapcar (lambda (i) (plist-get i :label))
          (if (vectorp completion) completion (plist-get completion :items))))

(defun erd-test-location-line (result)
  "1-based line of the first Location/LocationLink in a definition RESULT."
  (let* ((loc (if (vectorp result) (and (> (length result) 0) (aref result 0)) result))
         (range (or (plist-get loc :targetSelectionRange) (plist-get loc :range))))
    (and range (1+ (plist-get (plist-get range :start) :line)))))

(defun erd-test-definition (line col expect-line what)
  "Definition from LINE/COL: direct request, then `xref-find-definitions'."
  (let ((server (eglot-current-server)))
    (erd-test-step (format "definition request (%s)" what)
      (erd-test-goto line col)
      (let* ((res (jsonrpc-request server :textDocument/definition
                                   (eglot--TextDocumentPositionParams)))
             (got (erd-test-location-line res)))
        (erd-test-check (eql got expect-line)
                        "textDocument/definition of %s -> line %s (want %d)" what got expect-line)))
    (erd-test-step (format "xref-find-definitions (%s)" what)
      (erd-test-goto line col)
      (let ((buf (current-buffer))
            (id (xref-backend-identifier-at-point (xref-find-backend))))
        (xref-find-definitions id)
        (erd-test-check (and (eq (current-buffer) buf) (= (line-number-at-pos) expect-line))
                        "M-. on %s lands on line %d (at %s:%d)"
                        what expect-line (buffer-name) (line-number-at-pos))
        (switch-to-buffer buf)))))

;;; ------------------------------------------------------------------------------------

(unless (require 'eglot nil t)
  (erd-test-log "SKIP: eglot is not installed (Emacs 29+ has it; Debian: apt-get install elpa-eglot)")
  (kill-emacs 77))
(require 'flymake)
(require 'xref)
(setq debug-on-error nil
      eglot-sync-connect t
      eglot-autoshutdown nil
      eglot-events-buffer-size 0)

(let ((py (getenv "ERD_PY")))
  (when py (setq erd-lsp-server-command (list py "-m" "erd_lsp"))))
(erd-test-log "emacs %s, eglot %s, server %S" emacs-version
              (or (ignore-errors (package-version-join
                                  (package-desc-version (cadr (assq 'eglot package-alist)))))
                  "?")
              erd-lsp-server-command)

;; Emacs 28 has no Markdown mode of its own: use markdown-mode when installed (MELPA,
;; elpa-markdown-mode), else a stand-in with the same name so the set-up is exercised.
(unless (or (fboundp 'markdown-mode) (locate-library "markdown-mode"))
  (define-derived-mode markdown-mode text-mode "Markdown" "Stand-in for markdown-mode.")
  (add-to-list 'auto-mode-alist '("\\.md\\'" . markdown-mode))
  (erd-test-log "markdown-mode not installed: using a stand-in"))

(erd-test-check (eq (cdr (assoc "\\.mmd\\'" auto-mode-alist)) 'mermaid-er-mode)
                ".mmd files open in mermaid-er-mode")

;;; 0. The major mode alone (a buffer without a file: no server)

(erd-test-step "mermaid-er-mode"
  (with-temp-buffer
    (insert-file-contents (expand-file-name "shop.mmd" erd-test-work))
    (let ((orig (buffer-string)))
      (mermaid-er-mode)
      (font-lock-ensure)
      (goto-char (point-min))
      (search-forward "%% a small")
      (erd-test-check (eq (get-text-property (match-beginning 0) 'face) 'font-lock-comment-delimiter-face)
                      "%%%% starts a comment")
      (search-forward "CUSTOMER {")
      (erd-test-check (eq (get-text-property (match-beginning 0) 'face) 'font-lock-type-face)
                      "entity names are highlighted")
      (indent-region (point-min) (point-max))
      (erd-test-check (equal (buffer-string) orig) "indent-region keeps shop.mmd as it is")
      (goto-char (point-min))
      (comment-line 1)
      (erd-test-check (string-prefix-p "%% erDiagram\n" (buffer-string)) "comment-line uses %%%%"))))

;;; 1. Markdown: seed 003 has two Git conflict regions -> two E002

(erd-test-step "state.md"
  (let ((server (erd-test-open "state.md")))
    (when server
      (erd-test-check (derived-mode-p 'markdown-mode) "state.md is in markdown-mode")
      (erd-test-check (equal (eglot--language-id server) "markdown")
                      "languageId markdown (got %S)" (eglot--language-id server))
      (erd-test-wait (lambda () (>= (length (flymake-diagnostics)) 2)))
      (accept-process-output nil 0.3)
      (let ((d (erd-test-diags)))
        (dolist (x d) (erd-test-log "  diag %d:%d %s" (nth 0 x) (nth 1 x) (nth 3 x)))
        (erd-test-check (equal (mapcar (lambda (x) (list (nth 0 x) (nth 2 x))) d)
                               '((80 "E002") (114 "E002")))
                        "two E002, at lines 80 and 114: %S"
                        (mapcar (lambda (x) (list (nth 0 x) (nth 2 x))) d)))
      ;; `  objects ||--o| object_children : parent_id' (line 121) -> `  object_children {' (68)
      (erd-test-definition 121 18 68 "object_children in state.md"))))

;;; 2. A .mmd file with a misspelt entity, an emoji before it on the same line

(erd-test-step "shop.mmd"
  (let ((server (erd-test-open "shop.mmd")))
    (when server
      (erd-test-check (eq major-mode 'mermaid-er-mode) "shop.mmd is in mermaid-er-mode")
      (erd-test-check (equal (eglot--language-id server) "mermaid")
                      "languageId mermaid (got %S)" (eglot--language-id server))
      (erd-test-wait (lambda () (>= (length (flymake-diagnostics)) 1)))
      (accept-process-output nil 0.3)
      (let ((d (erd-test-diags)))
        (dolist (x d) (erd-test-log "  diag %d:%d %s" (nth 0 x) (nth 1 x) (nth 3 x)))
        ;; `    LAGER😀 ||--o{ ORDRE : stocks': ORDRE is character 18 (UTF-16 column 19)
        (erd-test-check (equal (mapcar (lambda (x) (list (nth 0 x) (nth 1 x) (nth 2 x))) d)
                               '((14 18 "W101")))
                        "one W101 on ORDRE at line 14, character 18: %S" d)
        (erd-test-check (and d (string-match-p "ORDER" (nth 3 (car d))))
                        "W101 suggests ORDER"))

      ;; `    CUSTOMER ||--o{ ORDER : places' (line 15) -> `    ORDER {' (line 7)
      (erd-test-definition 15 20 7 "ORDER in shop.mmd")

      ;; completion after a cardinality: the entities are offered
      (erd-test-step "completion"
        (goto-char (point-max))
        (let ((start (point)))
          (unwind-protect
              (progn
                (insert "    CUSTOMER ||--o{ ")
                (erd-test-flush)
                (erd-test-step "completion request"
                  (let* ((res (jsonrpc-request server :textDocument/completion
                                               (eglot--CompletionParams)))
                         (labels (erd-test-labels res)))
                    (erd-test-check (and (member "ORDER" labels) (member "CUSTOMER" labels)
                                         (member "LAGER😀" labels))
                                    "textDocument/completion offers the entities: %S" labels)))
                (erd-test-step "eglot-completion-at-point"
                  (let* ((capf (eglot-completion-at-point))
                         (cands (and capf (all-completions "" (nth 2 capf)))))
                    (erd-test-check (member "ORDER" cands)
                                    "eglot-completion-at-point candidates: %S"
                                    (mapcar #'substring-no-properties cands))))
                ;; and `completion-at-point' completes a unique prefix in the buffer
                (erd-test-step "completion-at-point"
                  (insert "CUS")
                  (erd-test-flush)
                  (let ((completion-auto-help nil))
                    (completion-at-point))
                  (let ((line (buffer-substring-no-properties (line-beginning-position) (line-end-position))))
                    (erd-test-check (string-match-p "||--o{ CUSTOMER\\s-*$" line)
                                    "completion-at-point completes CUS -> %S" line)))
                ;; let the diagnostics of this text arrive before deleting it (Eglot 1.9
                ;; does not check versions: a late report would warn "Invalid region")
                (erd-test-sync))
            (delete-region start (point-max))
            (erd-test-sync))))

      ;; incremental sync (UTF-16 columns after the emoji): fix the typo, W101 goes
      (erd-test-step "didChange"
        (erd-test-goto 14 18)
        (delete-char 5)
        (insert "ORDER")
        (erd-test-sync)
        (erd-test-check (erd-test-wait (lambda () (null (flymake-diagnostics))) 15)
                        "W101 gone after fixing ORDRE -> ORDER: %S" (erd-test-diags))))))

;;; 3. Two servers (one per language id), both shut down cleanly

(erd-test-check (= 1 (hash-table-count eglot--servers-by-project)) "both files in one project")
(let ((servers (apply #'append (hash-table-values eglot--servers-by-project))))
  (erd-test-check (= 2 (length servers)) "two erd-lsp processes (mermaid, markdown): %d" (length servers))
  (dolist (s servers)
    (erd-test-step "shutdown"
      (eglot-shutdown s)
      (erd-test-check (not (jsonrpc-running-p s)) "server %s shut down" (eglot--language-id s)))))

(if (zerop erd-test-failures)
    (progn (erd-test-log "PASS") (kill-emacs 0))
  (erd-test-log "FAILED: %d check(s)" erd-test-failures)
  (kill-emacs 1))

;;; erd-lsp-test.el ends here
