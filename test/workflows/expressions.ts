import { Evaluator, Lexer, Parser, data } from '@actions/expressions';

/** Evaluates `${{ ... }}` (or a bare `if:` expression) against plain contexts, as the runner does. */
export function evaluate(text: string, contexts: Record<string, unknown>): string | boolean {
  const expression = text.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  const lexed = new Lexer(expression).lex();
  const parsed = new Parser(lexed.tokens, Object.keys(contexts), []).parse();
  const context = JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary;
  const result = new Evaluator(parsed, context).evaluate();
  return result instanceof data.BooleanData ? result.value : result.coerceString();
}
